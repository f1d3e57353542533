"""Uploaded bytes to pixels, under the rules :func:`~fer_sklearn.io.read_image` applies to files.

No file name the client sends is used. A photo's header is checked here (its
format one of :data:`~fer_sklearn.io.IMAGE_SUFFIXES`, never the plugins that
run programs, and its pixel count under the server's limit, before anything is
decoded), then the library reads it from an anonymous in-memory file
(:func:`memory_file`) as it reads files. Face crops, and photos where there is
no such file, are decoded here from memory by the same rules: the EXIF
orientation applied, the first frame of an animation, 16-bit images scaled to
8 bits."""

import contextlib
import functools
import io
import os

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..io import IMAGE_SUFFIXES, eight_bit

_ORIENTATION = 0x0112  # the EXIF tag


class UploadError(ValueError):
    """An upload the server refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


@functools.lru_cache(maxsize=1)
def upload_formats():
    """Pillow's names of the formats of :data:`~fer_sklearn.io.IMAGE_SUFFIXES`."""
    Image.init()
    extensions = Image.registered_extensions()
    return tuple(sorted({extensions[s] for s in IMAGE_SUFFIXES if s in extensions}))


@contextlib.contextmanager
def _opened(data, max_pixels, what):
    """The upload opened by Pillow (header read, pixels not decoded), its errors as UploadError."""
    if not data:
        raise UploadError(400, f"{what} is empty (0 bytes): send the image file's content")
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    try:
        with Image.open(io.BytesIO(data), formats=upload_formats()) as pil:
            if pil.width * pil.height > limit:
                raise UploadError(413, f"{what} is {pil.width}x{pil.height} pixels, over the "
                                       f"server's limit of {limit}: refused without decoding "
                                       "(a possible decompression bomb); send a smaller image")
            yield pil
    except UploadError:
        raise
    except Image.DecompressionBombError as exc:
        raise UploadError(413, f"{what} was refused as a possible decompression bomb ({exc})"
                          ) from None
    except UnidentifiedImageError:
        raise UploadError(415, f"{what} is not an image in a supported format "
                               f"({', '.join(upload_formats())})") from None
    except Exception as exc:  # noqa: BLE001 - a broken file can fail any of Pillow's decoders
        raise UploadError(400, f"{what} is not a readable image, truncated or corrupt "
                               f"({type(exc).__name__}: {exc})") from None


def upload_size(data, *, max_pixels, what="the upload"):
    """Width and height of an uploaded image as shown (EXIF orientation applied), undecoded.

    Raises :class:`UploadError` as :func:`decode_upload` does, for what its header shows.
    """
    with _opened(data, max_pixels, what) as pil:
        width, height = pil.size
        if pil.getexif().get(_ORIENTATION) in (5, 6, 7, 8):  # turned a quarter
            width, height = height, width
        return width, height


def decode_upload(data, *, max_pixels, what="the upload"):
    """Decode the bytes of an image file to an RGB ``(h, w, 3)`` or gray ``(h, w)`` uint8 array.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    max_pixels : int
        Most pixels (width x height) accepted; never more than Pillow's
        ``PIL.Image.MAX_IMAGE_PIXELS``.
    what : str, default="the upload"
        Name used in error messages.

    Raises
    ------
    UploadError
        400 for empty, truncated or corrupt data, 413 for too many pixels,
        415 for data that is not an image of a supported format.
    """
    with _opened(data, max_pixels, what) as pil:
        ImageOps.exif_transpose(pil, in_place=True)
        pil.load()
        pil = eight_bit(pil)  # 16-bit and float gray scaled to 8 bits, not clipped
        return np.asarray(pil.convert("L" if pil.mode == "L" else "RGB"), dtype=np.uint8)


@contextlib.contextmanager
def memory_file(data):
    """A path to ``data`` in anonymous memory (Linux's ``memfd``), or None where there is none.

    Nothing reaches a disk and the name is the server's, so the library reads
    the upload as the file it is, JPEGs at the reduced scale detection needs
    (a 16-megapixel photo in a tenth of the time of a whole decode).
    """
    path = None
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fd = os.memfd_create("fer-sklearn-upload", os.MFD_CLOEXEC)
        path = f"/proc/self/fd/{fd}"
    if path is None:
        yield None
        return
    try:
        with open(fd, "wb", closefd=False) as file:
            file.write(data)
        yield path
    finally:
        os.close(fd)

"""Uploaded bytes to pixels, under the rules :func:`~fer_sklearn.io.read_image` applies to files.

The bytes are decoded from memory (no file name the client sends is used):
only the formats of :data:`~fer_sklearn.io.IMAGE_SUFFIXES` are tried (never the
plugins that run programs), the pixel count is checked before decoding (a
decompression bomb is refused unread), the EXIF orientation is applied, the
first frame of an animation is read and 16-bit images are scaled to 8 bits, as
for files."""

import functools
import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..io import IMAGE_SUFFIXES, eight_bit


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
    if not data:
        raise UploadError(400, f"{what} is empty (0 bytes): send the image file's content")
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    try:
        with Image.open(io.BytesIO(data), formats=upload_formats()) as pil:
            if pil.width * pil.height > limit:
                raise UploadError(413, f"{what} is {pil.width}x{pil.height} pixels, over the "
                                       f"server's limit of {limit}: refused without decoding "
                                       "(a possible decompression bomb); send a smaller image")
            ImageOps.exif_transpose(pil, in_place=True)
            pil.load()
            pil = eight_bit(pil)  # 16-bit and float gray scaled to 8 bits, not clipped
            return np.asarray(pil.convert("L" if pil.mode == "L" else "RGB"), dtype=np.uint8)
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

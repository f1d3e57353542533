"""One image reader for training and prediction, and the image files of folders.

:func:`read_image` and :func:`resize_square` are used by
:func:`~fer_sklearn.load_image_folder` and by everything in
:mod:`fer_sklearn.faces`, so a file gives the same pixels to a model when it is
trained and when it predicts (EXIF orientation applied).
"""

import functools
import math
import numbers
import os
import stat
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from ..utils import eight_bit_values, pixel_scale

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
"""The file suffixes read as images (matched without regard to case)."""
COLORS = ("rgb", "bgr")


def check_color(color):
    """Raise a ValueError unless ``color`` is one of :data:`COLORS`.

    Parameters
    ----------
    color : str
        The channel order asked for, ``"rgb"`` or ``"bgr"``.
    """
    if color not in COLORS:
        raise ValueError(f"color must be one of {COLORS}, got {color!r}")


# the formats read from files: those of IMAGE_SUFFIXES and a few plain ones, never the
# plugins that run programs (EPS calls Ghostscript) or parse complex containers
_FORMATS = ("PNG", "JPEG", "BMP", "DIB", "GIF", "TIFF", "WEBP", "PPM", "TGA", "ICO")


@functools.lru_cache(maxsize=1)
def _formats():
    """:data:`_FORMATS` that this Pillow reads (Pillow refuses to be asked for others)."""
    Image.init()
    return tuple(name for name in _FORMATS if name in Image.OPEN)


def _check_file(path):
    """Refuse what is not a regular, non-empty file before Pillow opens it (a pipe would block)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise ValueError(f"{path}: broken symbolic link (to {os.readlink(path)})") from None
        raise ValueError(f"{path}: no such file") from None
    except OSError as exc:  # a loop of links, a name too long, no permission...
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ValueError(f"{path}: is a folder, not an image file")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path}: not a regular file (a device, pipe or socket)")
    if info.st_size == 0:
        raise ValueError(f"{path}: empty file (0 bytes)")


def _check_pixels(pil, path):
    """Refuse an image over Pillow's pixel limit before it is decoded (a decompression bomb)."""
    limit = Image.MAX_IMAGE_PIXELS
    if limit and pil.width * pil.height > limit:
        raise ValueError(
            f"{path}: {pil.width}x{pil.height} pixels is over Pillow's limit of {limit} "
            "(PIL.Image.MAX_IMAGE_PIXELS), refused without decoding as a possible "
            "decompression bomb")


def eight_bit(pil):
    """High bit-depth grayscale (16-bit PNG or TIFF, 32-bit or float) scaled to 8-bit ``L``.

    Pillow's own conversion clips these at 255, which turns a 16-bit photo white.

    Parameters
    ----------
    pil : PIL.Image.Image
        An image of any mode.

    Returns
    -------
    image : PIL.Image.Image
        ``pil`` in mode ``L`` if it had more than 8 bits per pixel, else ``pil``.
    """
    if pil.mode not in ("I", "F") and not pil.mode.startswith("I;16"):
        return pil
    pixels = np.nan_to_num(np.asarray(pil, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    top = pixels.max(initial=0.0)
    if pil.mode == "F" and top <= 1:
        scale = 255.0
    elif pil.mode.startswith("I;16") or top > 255:
        scale = 255.0 / 65535.0
    else:
        scale = 1.0
    return Image.fromarray(np.clip(np.rint(pixels * scale), 0, 255).astype(np.uint8), "L")


def open_image(path, mode):
    """Read an image file as a PIL image in ``mode``, turned as its EXIF orientation says.

    Safe on files from the wild: a folder, pipe, empty or broken file, a file
    of another format, or an image over Pillow's pixel limit (refused before it
    is decoded) is a ValueError naming the file and the problem; the first
    frame of an animation is read; 16-bit images are scaled to 8 bits.

    Parameters
    ----------
    path : str or path-like
        The image file.
    mode : str
        PIL mode of the result (``"L"``, ``"RGB"``...).

    Returns
    -------
    image : PIL.Image.Image
        The decoded image.

    Raises
    ------
    ValueError
        If the file is missing or not a readable image.
    """
    return open_reduced(path, mode)[0]


def open_reduced(path, mode, least_scale=None):
    """:func:`open_image`, a JPEG decoded at a reduced scale where that loses nothing needed.

    Parameters
    ----------
    path : str or path-like
        The image file.
    mode : str
        PIL mode of the result.
    least_scale : callable or None, default=None
        ``least_scale(width, height)``: the smallest scale (at most 1) the
        image may be decoded at. A JPEG is then decoded by libjpeg at the
        smallest of 1/8, 1/4 and 1/2 that is not below it (Pillow's ``draft``),
        several times faster than decoding it whole and shrinking it after;
        other formats are decoded whole.

    Returns
    -------
    image : PIL.Image.Image
        The decoded image, in ``mode``.
    scale : float
        Pixels of ``image`` per pixel of the file (1.0 unless reduced).
    """
    _check_file(path)
    try:
        with Image.open(path, formats=_formats()) as pil:
            _check_pixels(pil, path)
            width = pil.width
            if least_scale is not None and pil.format == "JPEG":
                wanted = least_scale(pil.width, pil.height)
                if wanted < 1:
                    pil.draft(mode, (math.ceil(pil.width * wanted), math.ceil(pil.height * wanted)))
            scale = pil.width / width
            # phones store photos sideways with an EXIF orientation tag: apply it
            ImageOps.exif_transpose(pil, in_place=True)
            return eight_bit(pil).convert(mode), scale
    except Image.DecompressionBombError as exc:
        raise ValueError(f"{path}: refused without decoding as a possible decompression bomb "
                         f"({exc})") from None
    except ValueError as exc:
        if str(exc).startswith(f"{path}: "):  # ours, above
            raise
        raise ValueError(f"{path}: not a readable image ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - a broken file can fail any of Pillow's decoders
        raise ValueError(f"{path}: not a readable image ({type(exc).__name__}: {exc})") from None


def image_array(image, *, what="image"):
    """Check an array image and return it as uint8 ``(h, w)`` or ``(h, w, 3|4)``.

    16-bit arrays (uint16 beyond 255) are scaled to 0-255 and booleans become
    0/255; float fractions in [0, 1] are refused, as by ``predict``.

    Parameters
    ----------
    image : array-like
        One image, gray ``(h, w)`` or colour ``(h, w, 3|4)``.
    what : str, default="image"
        How error messages name it.

    Returns
    -------
    image : ndarray of uint8
        The image, same shape.
    """
    if isinstance(image, bytes) or image is None or isinstance(image, (numbers.Number, dict)):
        raise TypeError(
            f"{what} must be a path, a PIL image or an array, got {type(image).__name__}"
        )
    array = np.asarray(image)
    if array.dtype == object or array.dtype.kind not in "uifb":
        raise TypeError(f"{what} must hold numeric pixels, got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(
            f"{what} must be (height, width) gray or (height, width, 1|3|4) channels last; "
            f"got shape {array.shape}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{what} is empty (shape {array.shape})")
    if array.dtype.kind == "b":
        return array.astype(np.uint8) * 255
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise ValueError(f"{what} contains NaN or infinite pixels")
        if pixel_scale(array) == "0-1":  # the rule of predict: see PixelNormalizer
            raise ValueError(
                f"{what} holds pixels scaled to [0, 1] (fractions, at most "
                f"{float(array.max()):.3g}); pass 0-255 pixels, as predict takes them, e.g. "
                "(image * 255).round().astype(np.uint8)"
            )
    array = eight_bit_values(array)
    return np.clip(array, 0, 255).astype(np.uint8) if array.dtype != np.uint8 else array


def read_image(image, *, color="rgb", what="image"):
    """Return ``image`` as a uint8 grayscale ``(h, w)`` array.

    Parameters
    ----------
    image : str, path-like, PIL.Image.Image or array-like
        A file path (its EXIF orientation is applied), a PIL image, or an
        array: ``(h, w)`` gray or ``(h, w, 1|3|4)`` channels last, 0-255 pixels
        (16-bit uint16 arrays are scaled to 0-255; fractions in [0, 1] are
        refused, as by ``predict``).
    color : {"rgb", "bgr"}, default="rgb"
        Channel order of 3- and 4-channel arrays (OpenCV's ``imread`` gives BGR).
    what : str, default="image"
        Name used in error messages.

    Returns
    -------
    gray : ndarray of uint8, shape (h, w)
        Colour is converted with PIL's luma (ITU-R BT.601), for files, PIL
        images and arrays alike, so the three give the same pixels.

    Raises
    ------
    ValueError
        If a file is missing or not an image, or the array has a wrong shape.
    TypeError
        If ``image`` is none of the accepted kinds.

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn.io import read_image
    >>> read_image(np.zeros((4, 6, 3), dtype=np.uint8)).shape
    (4, 6)
    """
    check_color(color)
    if isinstance(image, (str, os.PathLike)):
        return np.asarray(open_image(image, "L"), dtype=np.uint8)
    if isinstance(image, Image.Image):
        return np.asarray(eight_bit(image).convert("L"), dtype=np.uint8)
    array = image_array(image, what=what)
    if array.ndim == 3:  # PIL's luma, so that arrays, PIL images and files agree exactly
        rgb = array[..., 2::-1] if color == "bgr" else array[..., :3]
        array = np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).convert("L"))
    return np.ascontiguousarray(array)


def resize_square(gray, size):
    """Resize a uint8 image to ``size`` x ``size``, stretching it if it is not square.

    Shrinking averages pixel areas (OpenCV's ``INTER_AREA``), growing is
    bilinear. Image folders and face crops are resized by this one function,
    so a face file gives the same pixels to training and to prediction.

    Parameters
    ----------
    gray : ndarray of uint8, shape (h, w)
        The image.
    size : int
        The side of the result.

    Returns
    -------
    image : ndarray of uint8, shape (size, size)
        The resized image.
    """
    if gray.shape[:2] == (size, size):
        return gray.copy()
    interpolation = cv2.INTER_AREA if max(gray.shape[:2]) > size else cv2.INTER_LINEAR
    return cv2.resize(gray, (size, size), interpolation=interpolation)


def iter_image_paths(inputs, *, exclude=None):
    """Yield the image files of files and folders: folders are searched recursively.

    Parameters
    ----------
    inputs : iterable of str or path-like
        Files (yielded as given, whatever their suffix) and folders (their
        files with a suffix of :data:`IMAGE_SUFFIXES`, sorted, sub-folders
        included). A sub-folder named like an image (``x.jpg/``) is yielded
        too, so that it is reported rather than silently skipped, and searched.
    exclude : str, path-like or None, default=None
        A folder not to search, e.g. an output folder inside an input folder.

    Yields
    ------
    path : pathlib.Path
    """
    exclude = None if exclude is None else Path(exclude).resolve()
    for item in inputs:
        path = Path(item)
        if not path.is_dir():
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if (Path(root) / d).resolve() != exclude)
            named = [d for d in dirs if Path(d).suffix.lower() in IMAGE_SUFFIXES]
            for name in sorted(files + named):
                if Path(name).suffix.lower() in IMAGE_SUFFIXES:
                    yield Path(root) / name

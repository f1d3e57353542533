"""Checks that turn what users pass as images and labels into well-formed arrays.

Built on scikit-learn's ``check_array``, ``column_or_1d`` and
``check_classification_targets``; what is ours is the image-shape logic and
messages that name the problem in terms of images and labels.
"""

import math
import numbers
import os

import numpy as np
from scipy.sparse import issparse
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.multiclass import check_classification_targets


def _as_float_array(X, what):
    """``check_array`` to float32 with any number of dimensions, re-raising in image terms."""
    if X is None or isinstance(X, (str, bytes)):
        raise TypeError(f"{what} must be an array of images, got {type(X).__name__}")
    if issparse(X):
        raise TypeError(
            f"{what} is a sparse matrix; sparse input is not supported: pass dense images"
        )
    if type(X) is np.ndarray and X.dtype.kind in "biuf":
        # what check_array returns for a plain numeric array, without its tens of microseconds
        # per call, which a photo's few faces pay once per step of the pipeline
        return X.astype(np.float32, copy=False)
    try:
        return check_array(
            X, dtype=np.float32, allow_nd=True, ensure_2d=False, ensure_all_finite=False,
            ensure_min_samples=0, ensure_min_features=0, input_name=what,
        )
    except (TypeError, ValueError) as exc:
        sizes = _sizes_of(X)
        if len(sizes) > 1:
            raise ValueError(
                f"{what} holds images of different sizes ({', '.join(sizes[:3])}"
                f"{', ...' if len(sizes) > 3 else ''}): a model takes face images of one size. "
                "For whole photos, find the faces first with EmotionRecognizer(...).analyze or "
                "FaceCropper; for face crops, resize them to one size"
            ) from None
        try:
            dtype = np.asarray(X).dtype
        except (TypeError, ValueError):  # ragged nested lists
            raise ValueError(f"{what} could not be read as an array: {exc}") from None
        if dtype.kind == "c":
            raise ValueError(
                f"Complex data not supported: {what} must hold real pixel values, got {dtype}"
            ) from None
        hint = ""
        if dtype.kind in "USO" and np.asarray(X, dtype=object).size:
            first = np.asarray(X, dtype=object).ravel()[0]
            if isinstance(first, (str, os.PathLike)):
                hint = (f"; it holds text such as {str(first)!r}: to learn from image files, "
                        "read them first, e.g. with load_image_folder (a folder per emotion) or "
                        "fer_sklearn.datasets.read_image")
        raise TypeError(
            f"{what} must hold numeric pixel values, got dtype {dtype} ({exc}){hint}"
        ) from None


def _sizes_of(X):
    """The distinct ``HxW`` sizes of a list of images (PIL images or arrays), else []."""
    if not isinstance(X, (list, tuple)):
        return []
    sizes = []
    for image in X:
        size = getattr(image, "size", None)  # PIL: (width, height)
        if isinstance(size, tuple) and len(size) == 2 and not hasattr(image, "shape"):
            text = f"{size[1]}x{size[0]}"
        else:
            shape = np.shape(image) if isinstance(image, (np.ndarray, list, tuple)) else ()
            if len(shape) < 2:
                return []
            text = f"{shape[0]}x{shape[1]}"
        if text not in sizes:
            sizes.append(text)
    return sizes


def eight_bit_values(X):
    """``X`` with 16-bit pixels (a uint16 array reaching beyond 255) scaled to 0-255.

    The rule :func:`~fer_sklearn.datasets.read_image` applies to 16-bit image
    files, for arrays: a uint16 array whose values stay within 0-255 already
    holds 8-bit pixels and is kept. Anything else is returned as it is.

    Parameters
    ----------
    X : array-like
        Pixels.

    Returns
    -------
    X : array-like
        The pixels as float32 on the 0-255 scale for 16-bit input, else ``X``.
    """
    if isinstance(X, np.ndarray) and X.dtype == np.uint16 and X.size and X.max() > 255:
        return X.astype(np.float32) * np.float32(255 / 65535)
    return X


def pixel_scale(pixels):
    """``"0-255"`` for pixels reaching beyond 25, ``"0-1"`` for fractions within [0, 1], else None.

    Negative values are no pixels of either scale (None); whole numbers within
    [0, 1] (e.g. a black image) fit both scales (None).

    Parameters
    ----------
    pixels : ndarray
        Pixel values.

    Returns
    -------
    scale : {"0-255", "0-1"} or None
        The scale the values are on; None where they fit neither or both.
    """
    if pixels.size == 0 or pixels.min() < 0:
        return None
    if pixels.max() > 25:
        return "0-255"
    if pixels.max() <= 1 and np.any(pixels != np.round(pixels)):
        return "0-1"
    return None


def check_pixels(X, *, allow_channels=True, what="X"):
    """Validate images or rows of pixels and return them as float32, keeping their layout.

    Parameters
    ----------
    X : array-like
        ``(n, n_pixels)`` rows, ``(n, h, w)`` images, or ``(n, h, w, c)``
        images with ``c`` in 1, 3 or 4 (when ``allow_channels``). Any real
        numeric dtype, lists and DataFrames included.
    allow_channels : bool, default=True
        Whether a trailing channel axis is accepted.
    what : str, default="X"
        The name used in error messages.

    Returns
    -------
    pixels : ndarray of float32
        ``X`` with a channel axis of 1 dropped; 16-bit pixels (uint16) are
        scaled to 0-255 as 16-bit image files are.

    Raises
    ------
    TypeError
        If the pixels are not numeric or ``X`` is sparse.
    ValueError
        For a wrong number of dimensions or channels, no samples, empty
        images, or NaN/infinite pixels.
    """
    X = _as_float_array(eight_bit_values(X), what)
    if X.ndim not in (2, 3, 4):
        hint = ". Reshape your data: X[None] is one image or row" if X.ndim < 2 else ""
        raise ValueError(
            f"{what} must have shape (n_samples, height, width), (n_samples, height, width, "
            f"channels) or (n_samples, height*width); got {X.ndim} dimension(s), shape "
            f"{X.shape}{hint}"
        )
    if X.ndim == 4:
        if not allow_channels:
            raise ValueError(
                f"{what} must be grayscale images of shape (n_samples, height, width); "
                f"got shape {X.shape}: convert colour images with Grayscale first"
            )
        if X.shape[-1] not in (1, 3, 4):
            raise ValueError(
                f"{what} has {X.shape[-1]} channels in its last axis (shape {X.shape}); "
                "expected 1 (gray), 3 (RGB) or 4 (RGBA), channels last"
            )
        if X.shape[-1] == 1:
            X = X[..., 0]
    if X.shape[0] == 0:
        raise ValueError(f"{what} holds 0 images (shape {X.shape}); at least one is required")
    if X.ndim == 2 and X.shape[1] == 0:
        raise ValueError(
            f"{what} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required: "
            "its images are empty"
        )
    if X.ndim > 2 and (X.shape[1] == 0 or X.shape[2] == 0):
        raise ValueError(f"{what} holds empty images of size {X.shape[1]}x{X.shape[2]}")
    finite = np.isfinite(X)
    if not finite.all():
        bad = int(np.flatnonzero(~finite.reshape(len(X), -1).all(axis=1))[0])
        raise ValueError(f"{what} contains NaN or infinite pixels (first in image {bad})")
    return X


def pixels_per_image(X):
    """Count the pixels of each image (or row) of a :func:`check_pixels` array.

    Parameters
    ----------
    X : ndarray
        Images ``(n, h, w)`` or ``(n, h, w, c)``, or rows ``(n, p)``.

    Returns
    -------
    n_pixels : int
        Pixels per image, channels excluded.
    """
    return int(np.prod(X.shape[1:3]))


def check_image_shape(image_shape):
    """Validate an ``image_shape`` parameter: None, or ``(height, width)`` with at most one -1.

    Parameters
    ----------
    image_shape : tuple of int or None
        The parameter's value.

    Raises
    ------
    ValueError
        If it is not None or a pair of positive integers, one of which may be -1.
    """
    if image_shape is None:
        return
    valid = (
        isinstance(image_shape, (tuple, list))
        and len(image_shape) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in image_shape)
        and all(v >= 1 or v == -1 for v in image_shape)
        and list(image_shape) != [-1, -1]
    )
    if not valid:
        raise ValueError(
            "image_shape must be None (square images) or (height, width) with positive "
            f"integers, one of which may be -1 (inferred); got {image_shape!r}"
        )


def _row_image_shape(n_pixels, image_shape, what):
    """``(height, width)`` of flat rows of ``n_pixels``: square when ``image_shape`` is None."""
    if image_shape is None:
        side = math.isqrt(n_pixels)
        if side * side != n_pixels:
            raise ValueError(
                f"{what} has flat rows of {n_pixels} pixels, which is not a square image "
                f"(e.g. 2304 = 48x48); reshape it to (n_samples, height, width) first"
            )
        return side, side
    check_image_shape(image_shape)
    height, width = image_shape
    height = n_pixels // width if height == -1 else height
    width = n_pixels // height if width == -1 else width
    if height * width != n_pixels:
        raise ValueError(
            f"{what} has flat rows of {n_pixels} pixels, which are not images of "
            f"image_shape={tuple(image_shape)}"
        )
    return height, width


def check_images(X, *, allow_channels=True, image_shape=None, what="X"):
    """Validate images and return them as a float32 array of images.

    Parameters
    ----------
    X : array-like
        ``(n, h, w)`` images, ``(n, h, w, c)`` images with ``c`` in 1, 3 or 4
        (when ``allow_channels``), or ``(n, h*w)`` flat rows of images. Any
        real numeric dtype.
    allow_channels : bool, default=True
        Whether a trailing channel axis is accepted.
    image_shape : tuple of int or None, default=None
        ``(height, width)`` of flat rows, one of them may be -1 (inferred);
        None reads them as square images.
    what : str, default="X"
        The name used in error messages.

    Returns
    -------
    images : ndarray of float32
        ``(n, h, w)``, or ``(n, h, w, c)`` for 3 or 4 channels.

    Raises
    ------
    TypeError
        If the pixels are not numeric.
    ValueError
        As :func:`check_pixels`, and for flat rows that are not images of
        ``image_shape`` (not square, by default).
    """
    X = check_pixels(X, allow_channels=allow_channels, what=what)
    if X.ndim == 2:
        try:
            X = X.reshape(len(X), *_row_image_shape(X.shape[1], image_shape, what))
        except ValueError as exc:  # often one image, read as rows of pixels
            raise ValueError(f"{exc}. If {what} is one {X.shape[0]}x{X.shape[1]} image, pass "
                             f"{what}[None] (a batch of one image)") from None
    return X


def check_labels(y, n_samples):
    """Validate one classification label per sample and return them as a 1-d array.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, 1)
        Labels: strings or integers (a column vector is raveled with a
        ``DataConversionWarning``, as scikit-learn does).
    n_samples : int
        The number of images the labels belong to.

    Returns
    -------
    y : ndarray of shape (n_samples,)
        The labels, raveled.

    Raises
    ------
    ValueError
        If ``y`` is None, not 1-d, of another length, has missing labels, or
        holds continuous values.
    TypeError
        If ``y`` mixes numbers and strings.
    """
    if y is None:
        raise ValueError(
            "requires y to be passed, but the target y is None: pass one emotion label per image"
        )
    y = column_or_1d(y, warn=True)
    if len(y) != n_samples:
        raise ValueError(f"X and y have different lengths: {n_samples} images but {len(y)} labels")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("y contains NaN or infinite labels")
    if y.dtype == object:
        if any(v is None or (isinstance(v, float) and v != v) for v in y):
            raise ValueError("y contains missing labels (None or NaN)")
        if len({isinstance(v, numbers.Number) for v in y}) > 1:
            raise TypeError("y mixes numbers and strings; use one kind of label")
    check_classification_targets(y)
    return y

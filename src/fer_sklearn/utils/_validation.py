"""Checks that turn what users pass as images into well-formed float arrays."""

import math
import numbers

import numpy as np


def _as_numeric_array(X, what):
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            f"{what} is a sparse matrix; sparse input is not supported: pass dense images"
        )
    if isinstance(X, (str, bytes)) or X is None:
        raise TypeError(f"{what} must be an array of images, got {type(X).__name__}")
    if hasattr(X, "to_numpy"):  # pandas
        X = X.to_numpy()
    try:
        X = np.asarray(X)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ValueError(f"{what} could not be read as an array: {exc}") from None
    if X.dtype == object or X.dtype.kind in "USV":
        try:
            X = X.astype(np.float64)
        except (ValueError, TypeError):
            raise TypeError(
                f"{what} must hold numeric pixel values, got dtype {X.dtype}"
            ) from None
    if X.dtype.kind == "b":
        X = X.astype(np.uint8)
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {what} must hold real pixel values, got {X.dtype}")
    if X.dtype.kind not in "uif":
        raise TypeError(f"{what} must hold numeric pixel values, got dtype {X.dtype}")
    return X


def _square_side(n_pixels, what):
    side = math.isqrt(n_pixels)
    if side * side != n_pixels:
        raise ValueError(
            f"{what} has flat rows of {n_pixels} pixels, which is not a square image "
            f"(e.g. 2304 = 48x48); reshape it to (n_samples, height, width) first"
        )
    return side


def check_images(X, *, allow_channels=True, what="X"):
    """Validate images and return them as a float32 array.

    Parameters
    ----------
    X : array-like
        ``(n, h, w)`` images, ``(n, h, w, c)`` images with ``c`` in 1, 3 or 4
        (when ``allow_channels``), or ``(n, h*w)`` flat rows of square images.
        Any real numeric dtype.
    allow_channels : bool, default=True
        Whether a trailing channel axis is accepted.
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
        For a wrong number of dimensions or channels, no images, empty images,
        non-square flat rows, or NaN/infinite pixels.
    """
    X = _as_numeric_array(X, what)
    if X.ndim == 2 and X.shape[1] == 0:
        raise ValueError(
            f"{what} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required: "
            "its images are empty"
        )
    if X.ndim == 2:
        side = _square_side(X.shape[1], what)
        X = X.reshape(len(X), side, side)
    elif X.ndim == 4:
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
    elif X.ndim != 3:
        raise ValueError(
            f"{what} must have shape (n_samples, height, width), (n_samples, height, width, "
            f"channels) or (n_samples, height*width); got {X.ndim} dimension(s), shape {X.shape}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{what} holds 0 images (shape {X.shape}); at least one is required")
    if X.shape[1] == 0 or X.shape[2] == 0:
        raise ValueError(f"{what} holds empty images of size {X.shape[1]}x{X.shape[2]}")
    X = X.astype(np.float32, copy=False)
    if not np.isfinite(X).all():
        bad = int(np.flatnonzero(~np.isfinite(X).reshape(len(X), -1).all(axis=1))[0])
        raise ValueError(f"{what} contains NaN or infinite pixels (first in image {bad})")
    return X


def check_labels(y, n_samples):
    """Validate a 1-d label vector of the given length and return it as an array."""
    if y is None:
        raise ValueError(
            "requires y to be passed, but the target y is None: pass one emotion label per image"
        )
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be 1-dimensional (one label per image), got shape {y.shape}")
    if len(y) != n_samples:
        raise ValueError(f"X and y have different lengths: {n_samples} images but {len(y)} labels")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise ValueError("y contains NaN or infinite labels")
        if np.any(y != np.round(y)):
            raise ValueError(
                "Unknown label type: continuous. y holds continuous values; classification "
                "needs discrete labels (emotion names or codes)"
            )
    if y.dtype == object:
        if any(v is None or (isinstance(v, float) and v != v) for v in y):
            raise ValueError("y contains missing labels (None or NaN)")
        kinds = {isinstance(v, numbers.Number) for v in y}
        if len(kinds) > 1:
            raise TypeError("y mixes numbers and strings; use one kind of label")
    return y

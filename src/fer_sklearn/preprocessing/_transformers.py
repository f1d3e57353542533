"""Image transformers: grayscale conversion, resizing and pixel normalisation.

Each accepts what users have: ``(n, h, w)`` images, ``(n, h, w, 1|3|4)``
channels-last images, or ``(n, n_pixels)`` rows of pixels, in any real numeric
dtype, and returns float32. :class:`Grayscale` and :class:`PixelNormalizer`
keep the layout (rows stay rows); :class:`ImageResizer` returns
``(n, size, size)`` images, reading rows as images of its ``image_shape``.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..utils import (
    Interval,
    StrOptions,
    check_image_shape,
    check_images,
    check_params,
    check_pixels,
    pixel_scale,
    pixels_per_image,
)

__all__ = ["Grayscale", "ImageResizer", "PixelNormalizer"]

# ITU-R BT.601 luma weights, the ones PIL's ``convert("L")`` uses.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def to_grayscale(images):
    """Collapse the channel axis of :func:`check_pixels` output into luminance."""
    if images.ndim < 4:
        return images
    return images[..., :3] @ _LUMA  # drops an alpha channel


class _ImageTransformer(TransformerMixin, BaseEstimator):
    """Base of the transformers: float32 output, dtype-preserving tag."""

    _parameter_constraints: dict = {}

    def _validate_params(self):
        check_params(self._parameter_constraints, self.get_params(deep=False),
                     type(self).__name__)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class _StatelessImageTransformer(_ImageTransformer):
    """A transformer that learns nothing: ``fit`` checks the input and records its size.

    ``transform`` takes images of any size, also after ``fit``: in a pipeline
    the resizer after it makes them all one size.
    """

    def fit(self, X, y=None):
        """Check the parameters and record the number of pixels per image.

        Parameters
        ----------
        X : array-like of images
            See the module docstring for the accepted shapes.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_params()
        self.n_features_in_ = pixels_per_image(self._check_input(X))
        return self

    def _check_input(self, X):
        return check_pixels(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class Grayscale(_StatelessImageTransformer):
    """Convert images to single-channel float32 luminance.

    RGB(A) images are weighted with the ITU-R BT.601 luma coefficients (as
    PIL's ``convert("L")``); an alpha channel is dropped; gray images and rows
    of pixels pass through as float32, in their shape.

    Attributes
    ----------
    n_features_in_ : int
        Pixels per image seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn.preprocessing import Grayscale
    >>> Grayscale().fit_transform(np.zeros((2, 48, 48, 3), dtype=np.uint8)).shape
    (2, 48, 48)
    """

    def transform(self, X):
        """Return float32 grayscale ``(n, h, w)`` images (``(n, n_pixels)`` for rows).

        Parameters
        ----------
        X : array-like of shape (n, h, w), (n, h, w, 1|3|4) or (n, n_pixels)
            Images or flat rows of pixels.

        Returns
        -------
        X_gray : ndarray of float32
            Gray images, or rows.
        """
        return to_grayscale(check_pixels(X))


class ImageResizer(_StatelessImageTransformer):
    """Resize images to ``size`` x ``size`` pixels.

    Bilinear interpolation with antialiasing when shrinking. Images that are not
    square are stretched to a square; crop faces first to keep their aspect.
    Colour images are converted to grayscale first.

    Parameters
    ----------
    size : int, default=48
        The side of the output images (FER2013 faces are 48x48).
    image_shape : tuple of int or None, default=None
        ``(height, width)`` of the images when ``X`` holds flat rows of pixels;
        one of them may be -1 (inferred from the row length). None reads
        rows as square images (2304 pixels = 48x48).

    Attributes
    ----------
    n_features_in_ : int
        Pixels per image seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn.preprocessing import ImageResizer
    >>> ImageResizer(size=32).fit_transform(np.zeros((2, 64, 64))).shape
    (2, 32, 32)
    >>> ImageResizer(size=8, image_shape=(4, -1)).fit_transform(np.zeros((2, 32))).shape
    (2, 8, 8)
    """

    _parameter_constraints = {
        "size": [Interval(Integral, 1, None, closed="left")],
        "image_shape": [None, tuple, list],
    }

    def __init__(self, size=48, image_shape=None):
        self.size = size
        self.image_shape = image_shape

    def _validate_params(self):
        super()._validate_params()
        check_image_shape(self.image_shape)

    def _check_input(self, X):
        return to_grayscale(check_images(X, image_shape=self.image_shape))

    def transform(self, X):
        """Return ``(n, size, size)`` float32 grayscale images.

        Parameters
        ----------
        X : array-like of shape (n, h, w), (n, h, w, 1|3|4) or (n, n_pixels)
            Images or flat rows of pixels.

        Returns
        -------
        X_resized : ndarray of float32, shape (n, size, size)
            The resized images.
        """
        self._validate_params()
        images = self._check_input(X)
        if images.shape[1:] == (self.size, self.size):
            return images
        _warn_if_photos(images.shape[1:3], self.size)
        with torch.no_grad():
            batch = torch.from_numpy(np.ascontiguousarray(images))[:, None]
            resized = F.interpolate(
                batch, size=(self.size, self.size), mode="bilinear",
                align_corners=False, antialias=True,
            )
        return resized[:, 0].numpy()


def _warn_if_photos(shape, size):
    """Warn when images look like whole photos (large, not square), not face crops."""
    height, width = shape
    if max(height, width) >= 4 * size and not 0.8 <= height / width <= 1.25:
        warnings.warn(
            f"X holds {height}x{width} images, which look like whole photos rather than face "
            "crops: each is classified as one face, without looking for faces in it. For "
            "photos use EmotionRecognizer(...).analyze (or a FaceCropper in the pipeline)",
            UserWarning, stacklevel=3)


class PixelNormalizer(_ImageTransformer):
    """Standardise pixels with one mean and standard deviation.

    Colour images are converted to grayscale first; images and rows of pixels
    keep their shape.

    Parameters
    ----------
    mean : float or None, default=None
        The pixel mean to subtract; None learns it from the images in ``fit``.
    std : float or None, default=None
        The standard deviation to divide by (positive); None learns it from
        the images in ``fit`` (1.0 where they are constant).
    pixel_range : {"auto", "0-255", "0-1"} or None, default="auto"
        The scale of the pixels the model is fitted for. ``transform`` refuses
        images on the other scale (pixels divided by 255 given to a model of
        0-255 pixels, or the reverse) instead of answering silently wrong.
        ``"auto"`` learns it in ``fit``: ``"0-255"`` when the pixels reach
        beyond 25, ``"0-1"`` when they are fractions within [0, 1], else no
        check; None never checks.

    Attributes
    ----------
    mean_ : float
        The mean used: ``mean``, or the mean pixel of the images seen in ``fit``.
    scale_ : float
        The standard deviation used: ``std``, or the one of those images.
    pixel_range_ : {"0-255", "0-1"} or None
        The scale checked in ``transform`` (None: no check).
    n_features_in_ : int
        Pixels per image seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn.preprocessing import PixelNormalizer
    >>> X = np.array([[[0, 255], [0, 255]]], dtype=np.uint8)
    >>> PixelNormalizer().fit_transform(X).ravel().tolist()
    [-1.0, 1.0, -1.0, 1.0]
    >>> PixelNormalizer(mean=127.5, std=127.5).fit_transform(X).ravel().tolist()
    [-1.0, 1.0, -1.0, 1.0]
    """

    _parameter_constraints = {
        "mean": [None, Interval(Real, None, None, closed="neither")],
        "std": [None, Interval(Real, 0, None, closed="neither")],
        "pixel_range": [StrOptions({"auto", "0-255", "0-1"}), None],
    }

    def __init__(self, mean=None, std=None, pixel_range="auto"):
        self.mean = mean
        self.std = std
        self.pixel_range = pixel_range

    def fit(self, X, y=None):
        """Set the pixel mean and standard deviation, learning those not given.

        Parameters
        ----------
        X : array-like of images
            See the module docstring for the accepted shapes.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted normalizer.
        """
        self._validate_params()
        pixels = to_grayscale(check_pixels(X))
        self.mean_ = float(pixels.mean(dtype=np.float64) if self.mean is None else self.mean)
        if self.std is None:
            std = float(pixels.std(dtype=np.float64))
            self.scale_ = std if std > 0 else 1.0
        else:
            self.scale_ = float(self.std)
        self.pixel_range_ = pixel_scale(pixels) if self.pixel_range == "auto" else self.pixel_range
        self.n_features_in_ = pixels_per_image(pixels)
        return self

    def _check_fitted_input(self, X, *, allow_channels=True):
        check_is_fitted(self)
        pixels = to_grayscale(check_pixels(X, allow_channels=allow_channels))
        n_pixels = pixels_per_image(pixels)
        if n_pixels != self.n_features_in_:
            raise ValueError(
                f"X has {n_pixels} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input (pixels per image)"
            )
        return pixels

    def _check_scale(self, pixels):
        fitted, given = getattr(self, "pixel_range_", None), pixel_scale(pixels)
        if fitted == "0-255" and given == "0-1":
            raise ValueError(
                "X holds pixels scaled to [0, 1] (fractions, at most "
                f"{float(pixels.max()):.3g}), but this model was fitted on 0-255 pixels: pass "
                "the pixels as they are (e.g. uint8 images), not divided by 255"
            )
        if fitted == "0-1" and given == "0-255":
            raise ValueError(
                f"X holds pixels up to {float(pixels.max()):.3g}, but this model was fitted on "
                "pixels scaled to [0, 1]: divide them by 255 as in training"
            )

    def transform(self, X):
        """Return the standardised float32 images (or rows), gray, in their shape.

        Parameters
        ----------
        X : array-like of shape (n, h, w), (n, h, w, 1|3|4) or (n, n_pixels)
            Images or flat rows of pixels.

        Returns
        -------
        X_standardised : ndarray of float32
            ``(X - mean_) / scale_``.

        Raises
        ------
        ValueError
            If the pixels are on another scale than those of ``fit`` (see
            ``pixel_range``).
        """
        pixels = self._check_fitted_input(X)
        self._check_scale(pixels)
        return (pixels - np.float32(self.mean_)) / np.float32(self.scale_)

    def inverse_transform(self, X):
        """Map standardised images back to the original pixel scale.

        Parameters
        ----------
        X : array-like
            Standardised images or rows, as :meth:`transform` returns them.

        Returns
        -------
        X_original : ndarray of float32
            ``X * scale_ + mean_``.
        """
        pixels = self._check_fitted_input(X, allow_channels=False)
        return pixels * np.float32(self.scale_) + np.float32(self.mean_)

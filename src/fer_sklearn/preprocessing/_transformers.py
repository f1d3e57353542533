"""Image transformers: grayscale conversion, resizing and pixel normalisation.

Each accepts what users have: ``(n, h, w)`` images, ``(n, h, w, 1|3|4)``
channels-last images, or flat ``(n, h*w)`` rows of square images, in any real
numeric dtype, and returns float32 ``(n, h, w)`` images.
"""

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..utils._validation import check_images

__all__ = ["Grayscale", "ImageResizer", "PixelNormalizer"]

# ITU-R BT.601 luma weights, the ones PIL's ``convert("L")`` uses.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def to_grayscale(images):
    """Collapse the channel axis of validated images into luminance."""
    if images.ndim == 3:
        return images
    return images[..., :3] @ _LUMA  # drops an alpha channel


class _ImageTransformer(TransformerMixin, BaseEstimator):
    """Stateless image transformer: ``fit`` records the input image shape."""

    def fit(self, X, y=None):
        """Record the input image size.

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
        self._check_params()
        images = check_images(X)
        self.n_features_in_ = images.shape[1] * images.shape[2]
        return self

    def _check_params(self):
        pass

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class Grayscale(_ImageTransformer):
    """Convert images to single-channel float32 luminance.

    RGB(A) images are weighted with the ITU-R BT.601 luma coefficients (as
    PIL's ``convert("L")``); an alpha channel is dropped; gray images pass
    through as float32.

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn.preprocessing import Grayscale
    >>> Grayscale().fit_transform(np.zeros((2, 48, 48, 3), dtype=np.uint8)).shape
    (2, 48, 48)
    """

    def transform(self, X):
        """Return ``(n, h, w)`` float32 grayscale images."""
        return to_grayscale(check_images(X))


class ImageResizer(_ImageTransformer):
    """Resize images to ``size`` x ``size`` pixels.

    Bilinear interpolation with antialiasing when shrinking. Images that are not
    square are stretched to a square; crop faces first to keep their aspect.

    Parameters
    ----------
    size : int, default=48
        The side of the output images (FER2013 faces are 48x48).

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn.preprocessing import ImageResizer
    >>> ImageResizer(size=32).fit_transform(np.zeros((2, 64, 64))).shape
    (2, 32, 32)
    """

    def __init__(self, size=48):
        self.size = size

    def _check_params(self):
        if isinstance(self.size, bool) or not isinstance(self.size, (int, np.integer)):
            raise TypeError(f"size must be an int, got {type(self.size).__name__}")
        if self.size < 1:
            raise ValueError(f"size must be at least 1, got {self.size}")

    def transform(self, X):
        """Return ``(n, size, size)`` float32 grayscale images."""
        self._check_params()
        images = to_grayscale(check_images(X))
        if images.shape[1:] == (self.size, self.size):
            return images
        with torch.no_grad():
            batch = torch.from_numpy(np.ascontiguousarray(images))[:, None]
            resized = F.interpolate(
                batch, size=(self.size, self.size), mode="bilinear",
                align_corners=False, antialias=True,
            )
        return resized[:, 0].numpy()


class PixelNormalizer(TransformerMixin, BaseEstimator):
    """Standardise pixels with the mean and standard deviation of the training images.

    Attributes
    ----------
    mean_ : float
        Mean pixel value of the images seen in ``fit``.
    scale_ : float
        Their standard deviation (1.0 where they are constant).
    n_features_in_ : int
        Pixels per image seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn.preprocessing import PixelNormalizer
    >>> X = np.array([[[0, 255], [0, 255]]], dtype=np.uint8)
    >>> PixelNormalizer().fit_transform(X).ravel().tolist()
    [-1.0, 1.0, -1.0, 1.0]
    """

    def fit(self, X, y=None):
        """Learn the pixel mean and standard deviation.

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
        images = to_grayscale(check_images(X))
        pixels = images.astype(np.float64)
        self.mean_ = float(pixels.mean())
        std = float(pixels.std())
        self.scale_ = std if std > 0 else 1.0
        self.n_features_in_ = images.shape[1] * images.shape[2]
        return self

    def transform(self, X):
        """Return the standardised ``(n, h, w)`` float32 images."""
        check_is_fitted(self)
        images = to_grayscale(check_images(X))
        return (images - np.float32(self.mean_)) / np.float32(self.scale_)

    def inverse_transform(self, X):
        """Map standardised images back to the original pixel scale."""
        check_is_fitted(self)
        images = check_images(X, allow_channels=False)
        return images * np.float32(self.scale_) + np.float32(self.mean_)

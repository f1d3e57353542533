"""Image transformers: grayscale conversion, resizing and pixel normalisation."""

from ._transformers import Grayscale, ImageResizer, PixelNormalizer

__all__ = ["Grayscale", "ImageResizer", "PixelNormalizer"]

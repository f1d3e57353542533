"""Image transformers: grayscale conversion, resizing and pixel normalisation."""

from .._registry import register_class
from ._transformers import Grayscale, ImageResizer, PixelNormalizer

for _cls in (Grayscale, ImageResizer, PixelNormalizer):
    register_class(f"fer_sklearn.preprocessing.{_cls.__name__}", _cls)  # model files may name them

__all__ = ["Grayscale", "ImageResizer", "PixelNormalizer"]

"""Image input: one reader of image files, PIL images and arrays for the whole package.

:func:`read_image` and :func:`resize_square` are used by the data loaders of
:mod:`fer_sklearn.datasets` and by everything in :mod:`fer_sklearn.faces`, so a
file gives the same pixels to a model when it is trained and when it predicts.
"""

from ._images import (
    COLORS,
    IMAGE_SUFFIXES,
    check_color,
    eight_bit,
    image_array,
    iter_image_paths,
    open_image,
    open_reduced,
    read_image,
    resize_square,
)

__all__ = [
    "COLORS",
    "IMAGE_SUFFIXES",
    "check_color",
    "eight_bit",
    "image_array",
    "iter_image_paths",
    "open_image",
    "open_reduced",
    "read_image",
    "resize_square",
]

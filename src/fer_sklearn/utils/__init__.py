"""Helpers shared by the areas of the package: emotion labels, input checks, search grids,
atomic file writes."""

from ._files import atomic_write
from ._labels import (
                      EMOTIONS,
                      check_one_spelling,
                      emotion_codes,
                      emotion_from_name,
                      emotion_names,
                      is_emotion_name,
                      labels_like,
                      normalize_emotion_labels,
)
from ._param_grid import check_param_grid, valid_prefixes
from ._validation import (
    check_image_shape, check_images, check_labels, check_pixels, eight_bit_values, pixel_scale,
    pixels_per_image,
)

__all__ = [
    "EMOTIONS",
    "atomic_write",
    "check_image_shape",
    "check_images",
    "check_labels",
    "check_one_spelling",
    "check_param_grid",
    "check_pixels",
    "eight_bit_values",
    "emotion_codes",
    "emotion_from_name",
    "emotion_names",
    "is_emotion_name",
    "labels_like",
    "normalize_emotion_labels",
    "pixel_scale",
    "pixels_per_image",
    "valid_prefixes",
]

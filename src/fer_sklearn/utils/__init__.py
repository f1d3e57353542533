"""Helpers shared by the areas of the package: emotion labels, input checks, search grids,
atomic file writes, thread counts."""

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
from ._threads import SMALL_BATCH, available_cores, prediction_threads, thread_share
from ._validation import (
    check_image_shape, check_images, check_labels, check_pixels, eight_bit_values, pixel_scale,
    pixels_per_image,
)

__all__ = [
    "EMOTIONS",
    "SMALL_BATCH",
    "atomic_write",
    "available_cores",
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
    "prediction_threads",
    "thread_share",
    "valid_prefixes",
]

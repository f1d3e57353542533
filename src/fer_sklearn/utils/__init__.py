"""Helpers shared by the areas of the package: emotion labels, input checks, parameter checks,
search grids, atomic file writes, thread counts, the CPU and ``show_versions``."""

from ._cpu import cpu_features, cpu_precision, describe_cpu
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
from ._param_validation import (
                      Interval,
                      InvalidParameterError,
                      StrOptions,
                      check_params,
                      validate_params,
)
from ._show_versions import show_versions
from ._threads import SMALL_BATCH, available_cores, prediction_threads, thread_share
from ._validation import (
                      check_image_shape,
                      check_images,
                      check_labels,
                      check_pixels,
                      eight_bit_values,
                      pixel_scale,
                      pixels_per_image,
)

__all__ = [
    "EMOTIONS",
    "InvalidParameterError",
    "Interval",
    "StrOptions",
    "SMALL_BATCH",
    "atomic_write",
    "available_cores",
    "check_image_shape",
    "check_images",
    "check_labels",
    "check_one_spelling",
    "check_param_grid",
    "check_params",
    "check_pixels",
    "cpu_features",
    "cpu_precision",
    "describe_cpu",
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
    "show_versions",
    "thread_share",
    "valid_prefixes",
    "validate_params",
]

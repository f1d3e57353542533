"""Model files that are safe to share: safetensors weights and a JSON description, no pickle.

:func:`save_model` writes any fitted pipeline or classifier of the library as one
``.safetensors`` file, and :func:`load_model` reads it (the shipped models are
such files too) without running code from it. :class:`EpochCheckpoint` and
:class:`ResumeTraining` make a training run resumable after a crash.
"""

from ._checkpoint import EpochCheckpoint, ResumeTraining
from ._format import FORMAT, load_model, read_description, save_model, write_model
from ._values import ModelFileError

# read_description and write_model (save_model with fp16 weights, a version and metrics) are
# for the shipped models (fer_sklearn.pretrained), not part of the public API
__all__ = ["FORMAT", "EpochCheckpoint", "ModelFileError", "ResumeTraining", "load_model",
           "save_model"]

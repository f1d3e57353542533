"""Model files that are safe to share: safetensors weights and a JSON description, no pickle.

:func:`save_model` writes any fitted pipeline or classifier of the library as one
``.safetensors`` file, and :func:`load_model` reads it (the shipped models are
such files too) without running code from it. :class:`EpochCheckpoint` and
:class:`ResumeTraining` make a training run resumable after a crash.
"""

from ._checkpoint import EpochCheckpoint, ResumeTraining
from ._format import FORMAT, load_model, save_model
from ._format import read_description as read_description  # for fer_sklearn.pretrained
from ._format import write_model as write_model  # (not the public API)
from ._values import ModelFileError

# read_description and write_model (save_model with fp16 weights, a version and metrics) serve
# the shipped models (fer_sklearn.pretrained)
__all__ = ["FORMAT", "EpochCheckpoint", "ModelFileError", "ResumeTraining", "load_model",
           "save_model"]

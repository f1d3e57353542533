"""The teacher of a distillation: resolved from a name or a file, its columns, its batch outputs."""

import contextlib
import copy

import numpy as np
import torch

from ..neural_net import EmotionClassifier
from ..pretrained import resolve_model
from ..utils import labels_like


def resolve_teacher(teacher):
    """Resolve ``teacher`` into a fitted model: itself, a shipped model's name or a file's path.

    Parameters
    ----------
    teacher : estimator, str or path-like
        A fitted model, a name of :func:`~fer_sklearn.available_models` or a
        model file (:func:`~fer_sklearn.pretrained.resolve_model` reads it).

    Returns
    -------
    model : estimator
        The fitted teacher.
    """
    model = resolve_model(teacher)
    if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
        raise TypeError(f"teacher must be a fitted model with predict_proba and classes_ (a "
                        f"classifier or pipeline of fer_sklearn), got {type(model).__name__}")
    return model


def teacher_columns(teacher, classes):
    """The teacher's ``predict_proba`` column of each of the student's ``classes``."""
    theirs = np.asarray(teacher.classes_)
    try:
        theirs = np.asarray(labels_like(theirs, np.asarray(classes)))
    except (TypeError, ValueError):
        pass
    where = {label: i for i, label in enumerate(theirs.tolist())}
    missing = [c for c in np.asarray(classes).tolist() if c not in where]
    if missing:
        raise ValueError(f"the teacher does not know the classes {missing}: its classes are "
                         f"{np.asarray(teacher.classes_).tolist()}")
    return np.array([where[c] for c in np.asarray(classes).tolist()])


class BatchTeacher:
    """The teacher's log-probabilities on each training batch, where the batch already is.

    A fitted :class:`~fer_sklearn.EmotionClassifier` (an ensemble's included)
    whose images have the batch's size runs as a frozen copy of its network on
    the student's device, under the student's autocast: no copy to the host, no
    wait. Any other model (a pipeline, a classifier with test-time augmentation)
    gets the batch through its ``predict_proba`` on the host.

    Parameters
    ----------
    teacher : fitted model
        From :func:`resolve_teacher`.
    columns : array of int
        The teacher's column of each of the student's classes.
    device : torch.device
        The student's device.
    image_shape : tuple of int
        ``(height, width)`` of the student's images.
    autocast_dtype : torch.dtype or None, default=None
        The student's autocast (e.g. bf16 on a GPU).
    """

    def __init__(self, teacher, columns, device, image_shape, autocast_dtype=None):
        self.teacher = teacher
        self.columns = torch.as_tensor(np.asarray(columns), device=device)
        self.device = torch.device(device)
        self.autocast_dtype = autocast_dtype
        self.network = None
        if (isinstance(teacher, EmotionClassifier) and getattr(teacher, "initialized_", False)
                and not getattr(teacher, "tta", False)
                and tuple(getattr(teacher, "image_shape_", ())) == tuple(image_shape)):
            self.network = copy.deepcopy(teacher.module_).to(self.device).eval()
            self.network.requires_grad_(False)
            if self.device.type == "cuda":
                self.network = self.network.to(memory_format=torch.channels_last)

    def __call__(self, images):
        """``log p`` ``(n, C)`` float32 of the teacher on ``images`` ``(n, 1, h, w)``."""
        with torch.no_grad():
            if self.network is None:
                proba = self.teacher.predict_proba(images[:, 0].float().cpu().numpy())
                proba = torch.as_tensor(np.asarray(proba, dtype=np.float32), device=images.device)
                return torch.log(proba[:, self.columns].clamp_min(1e-8))
            if self.device.type == "cuda":
                images = images.contiguous(memory_format=torch.channels_last)
            with (torch.autocast(self.device.type, dtype=self.autocast_dtype)
                  if self.autocast_dtype is not None else contextlib.nullcontext()):
                logits = self.network(images)
            return torch.log_softmax(logits.float(), dim=1)[:, self.columns]

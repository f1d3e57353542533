"""What a model file may name, and the checks of its JSON.

A model file never names a Python object by an import path that is then
imported: every class it mentions is looked up in :func:`known_classes`, the
library's own classes and a few of torch's, and anything else is
refused. Values are JSON scalars, lists and a few tagged objects (see
:mod:`._codec`): ``{"$tuple": [...]}``, ``{"$float": "nan"}``,
``{"$dict": [[key, value], ...]}``, ``{"$array": [...], "dtype": "int64"}``,
``{"$class": "torch.optim.Adam"}``, ``{"$object": "fer_sklearn.ImageAugmenter",
"params": {...}}`` and ``{"$module": "fer_sklearn.EmotionCNN", ...}``.
"""

import functools
import inspect

import torch
from sklearn.pipeline import Pipeline
from skorch.dataset import Dataset
from torch.utils.data import DataLoader

from ..faces import FaceCropper
from ..neural_net import EmotionClassifier, EmotionCNN, EnsembleCNN, ImageAugmenter
from ..pipeline import EmotionPipeline
from ..preprocessing import Grayscale, ImageResizer, PixelNormalizer

# the library's classes a model file may name, by the name it gives them
_LIBRARY_CLASSES = {
    "fer_sklearn.EmotionClassifier": EmotionClassifier,
    "fer_sklearn.EmotionCNN": EmotionCNN,
    "fer_sklearn.EnsembleCNN": EnsembleCNN,
    "fer_sklearn.ImageAugmenter": ImageAugmenter,
    "fer_sklearn.EmotionPipeline": EmotionPipeline,
    "sklearn.pipeline.Pipeline": Pipeline,
    "fer_sklearn.FaceCropper": FaceCropper,
    **{f"fer_sklearn.preprocessing.{cls.__name__}": cls
       for cls in (Grayscale, ImageResizer, PixelNormalizer)},
}


class ModelFileError(ValueError):
    """A model file that is broken, tampered with or of an unknown format (a ValueError)."""


@functools.lru_cache(maxsize=1)
def _torch_classes():
    classes = {
        "torch.utils.data.DataLoader": DataLoader,
        "skorch.dataset.Dataset": Dataset,
        "torch.nn.CrossEntropyLoss": torch.nn.CrossEntropyLoss,
    }
    for name in ("Adam", "AdamW", "SGD", "RMSprop", "NAdam", "RAdam"):
        classes[f"torch.optim.{name}"] = getattr(torch.optim, name)
    for name in ("ReLU", "ReLU6", "LeakyReLU", "ELU", "SiLU", "Mish", "Hardswish"):
        classes[f"torch.nn.{name}"] = getattr(torch.nn, name)
    return classes


def known_classes():
    """The classes a model file may name, by the name the file uses for each.

    The library's estimators, transformers and networks, and a few of torch's.
    """
    return {**_LIBRARY_CLASSES, **_torch_classes()}


def name_of(cls):
    """The name a model file uses for ``cls``, or None if it may not name it."""
    for name, known in known_classes().items():
        if known is cls:
            return name
    return None


def lookup(name, where):
    """The class a file names ``name`` at ``where``; a ModelFileError if it is not known."""
    if not isinstance(name, str):
        raise ModelFileError(f"{where}: expected a class name, got {name!r}")
    if name not in known_classes():
        raise ModelFileError(
            f"{where}: unknown class {name!r}; a model file may only name "
            f"{', '.join(sorted(known_classes()))}")
    return known_classes()[name]


def init_params(cls):
    """The parameter names of ``cls`` (its ``__init__`` arguments)."""
    signature = inspect.signature(cls.__init__)
    return [p.name for p in signature.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def refuse(where, value, why="save_model stores only plain values and the library's classes"):
    """The ValueError of a value that cannot be stored."""
    return ValueError(f"cannot store {where} = {value!r} in a model file: {why}; save this "
                      "model with joblib instead (for trusted files only)")


def expect(value, kind, where):
    """``value`` if it is of JSON type ``kind`` (dict, list, str...), else a ModelFileError."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = {dict: "an object", list: "a list", str: "a string", int: "an integer"}
        raise ModelFileError(f"{where}: expected {names.get(kind, kind.__name__)}, got "
                             f"{type(value).__name__} {_short(value)}")
    return value


def expect_keys(node, required, where, optional=()):
    """Check that the JSON object ``node`` has the keys ``required``, maybe ``optional``, only."""
    expect(node, dict, where)
    missing = [k for k in required if k not in node]
    if missing:
        raise ModelFileError(f"{where}: missing key {missing[0]!r}")
    unexpected = sorted(set(node) - set(required) - set(optional))
    if unexpected:
        raise ModelFileError(f"{where}: unexpected key {unexpected[0]!r}")
    return node


def construct(cls, params, where):
    """``cls(**params)``; a ModelFileError naming the problem if it refuses them."""
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: invalid parameters for {cls.__name__} ({exc})") from None


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

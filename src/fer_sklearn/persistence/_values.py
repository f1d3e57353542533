"""What a model file may name, and the JSON encoding of parameter values.

A model file never names a Python object by an import path that is then
imported: every class it mentions is looked up in :func:`known_classes`, a
fixed table, and anything else is refused. Values are JSON scalars, lists and a
few tagged objects: ``{"$tuple": [...]}``, ``{"$float": "nan"}``,
``{"$dict": [[key, value], ...]}``, ``{"$array": [...], "dtype": "int64"}``,
``{"$class": "torch.optim.Adam"}``, ``{"$object": "fer_sklearn.ImageAugmenter",
"params": {...}}`` and ``{"$module": "fer_sklearn.EmotionCNN", ...}`` (see
:mod:`._networks`).
"""

import functools
import inspect
import math
import numbers

import numpy as np

# the array dtypes a file may hold (labels, class weights): numbers, strings, python objects
# of those kinds (object arrays of str), never anything that unpickles
_ARRAY_KINDS = "biufUO"


class ModelFileError(ValueError):
    """A model file that is broken, tampered with or of an unknown format (a ValueError)."""


@functools.lru_cache(maxsize=1)
def known_classes():
    """The classes a model file may name, by the name the file uses for each."""
    import torch
    from skorch.dataset import Dataset
    from sklearn.pipeline import Pipeline
    from torch.utils.data import DataLoader

    from ..faces import FaceCropper
    from ..neural_net import EmotionClassifier, EmotionCNN, ImageAugmenter
    from ..neural_net._cnn import EnsembleCNN
    from ..pipeline import EmotionPipeline
    from ..preprocessing import Grayscale, ImageResizer, PixelNormalizer

    classes = {
        "fer_sklearn.EmotionPipeline": EmotionPipeline,
        "sklearn.pipeline.Pipeline": Pipeline,
        "fer_sklearn.preprocessing.Grayscale": Grayscale,
        "fer_sklearn.preprocessing.ImageResizer": ImageResizer,
        "fer_sklearn.preprocessing.PixelNormalizer": PixelNormalizer,
        "fer_sklearn.FaceCropper": FaceCropper,
        "fer_sklearn.EmotionClassifier": EmotionClassifier,
        "fer_sklearn.EmotionCNN": EmotionCNN,
        "fer_sklearn.EnsembleCNN": EnsembleCNN,
        "fer_sklearn.ImageAugmenter": ImageAugmenter,
        "torch.utils.data.DataLoader": DataLoader,
        "skorch.dataset.Dataset": Dataset,
        "torch.nn.CrossEntropyLoss": torch.nn.CrossEntropyLoss,
    }
    for name in ("Adam", "AdamW", "SGD", "RMSprop", "NAdam", "RAdam"):
        classes[f"torch.optim.{name}"] = getattr(torch.optim, name)
    for name in ("ReLU", "ReLU6", "LeakyReLU", "ELU", "SiLU", "Mish", "Hardswish"):
        classes[f"torch.nn.{name}"] = getattr(torch.nn, name)
    return classes


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


# --------------------------------------------------------------------------- saving
def refuse(where, value, why="save_model stores only plain values and the library's classes"):
    """The ValueError of a value that cannot be stored."""
    return ValueError(f"cannot store {where} = {value!r} in a model file: {why}; save this "
                      "model with joblib instead (for trusted files only)")


def encode(value, where):
    """``value`` as JSON, with the tags of the module docstring."""
    from ._networks import encode_network  # torch: only once a model is saved

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (numbers.Real, np.bool_)):
        if isinstance(value, np.bool_):
            return bool(value)
        return float(value) if math.isfinite(value) else {"$float": repr(float(value))}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {"$dict": [[encode(k, f"{where} key"), encode(v, f"{where}[{k!r}]")]
                          for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        return encode_array(value, where)
    if inspect.isclass(value):
        if name_of(value) is None:
            raise refuse(where, value, "it names a class that a model file may not name")
        return {"$class": name_of(value)}
    from ..neural_net import ImageAugmenter

    if type(value) is ImageAugmenter:
        return {"$object": name_of(ImageAugmenter),
                "params": {k: encode(v, f"{where}.{k}") for k, v in vars(value).items()}}
    return encode_network(value, where)


def encode_array(array, where):
    """A numpy array of labels or numbers as ``{"$array": [...], "dtype": ...}``."""
    array = np.asarray(array)
    if array.dtype.kind not in _ARRAY_KINDS:
        raise refuse(where, array, f"arrays of dtype {array.dtype} are not stored")
    if array.dtype.kind == "O" and not all(isinstance(v, (str, numbers.Real))
                                           for v in array.ravel()):
        raise refuse(where, array, "object arrays are stored only of strings and numbers")
    values = _finite_json(array.tolist(), where)
    return {"$array": values, "dtype": array.dtype.str if array.dtype.kind != "O" else "object"}


# --------------------------------------------------------------------------- loading
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


def decode(data, where):
    """The value of JSON ``data`` written by :func:`encode`."""
    from ._networks import decode_network

    if data is None or isinstance(data, (bool, str, int)):
        return data
    if isinstance(data, float):
        if not math.isfinite(data):
            raise ModelFileError(f"{where}: non-finite numbers are written as {{'$float': ...}}")
        return data
    if isinstance(data, list):
        return [decode(v, f"{where}[{i}]") for i, v in enumerate(data)]
    expect(data, dict, where)
    tags = [k for k in data if k.startswith("$")]
    if len(tags) != 1:
        raise ModelFileError(f"{where}: expected a value, got an object with keys {sorted(data)}")
    tag = tags[0]
    if tag == "$float":
        expect_keys(data, ["$float"], where)
        if data["$float"] not in ("nan", "inf", "-inf"):
            raise ModelFileError(f"{where}: $float must be 'nan', 'inf' or '-inf'")
        return float(data["$float"])
    if tag == "$tuple":
        expect_keys(data, ["$tuple"], where)
        return tuple(decode(expect(data["$tuple"], list, where), where))
    if tag == "$dict":
        expect_keys(data, ["$dict"], where)
        pairs = expect(data["$dict"], list, where)
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise ModelFileError(f"{where}: $dict must hold [key, value] pairs")
        return {_hashable(decode(k, where), where): decode(v, f"{where}[{k!r}]") for k, v in pairs}
    if tag == "$array":
        return decode_array(data, where)
    if tag == "$class":
        expect_keys(data, ["$class"], where)
        return lookup(data["$class"], where)
    if tag == "$object":
        expect_keys(data, ["$object", "params"], where)
        cls = lookup(data["$object"], where)
        from ..neural_net import ImageAugmenter

        if cls is not ImageAugmenter:
            raise ModelFileError(f"{where}: {data['$object']} is not a value object")
        return construct(cls, decode_params(data["params"], where), where)
    if tag == "$module":
        return decode_network(data, where)
    raise ModelFileError(f"{where}: unknown tag {tag!r}")


def decode_array(data, where):
    """The array of ``{"$array": [...], "dtype": ...}``."""
    expect_keys(data, ["$array", "dtype"], where)
    dtype = expect(data["dtype"], str, f"{where}.dtype")
    try:
        dtype = np.dtype(object if dtype == "object" else dtype)
    except TypeError:
        raise ModelFileError(f"{where}: unknown dtype {dtype!r}") from None
    if dtype.kind not in _ARRAY_KINDS:
        raise ModelFileError(f"{where}: arrays of dtype {dtype} are not allowed")
    values = decode(expect(data["$array"], list, where), where)
    flat = np.asarray(values, dtype=object).ravel()
    if not all(isinstance(v, (str, numbers.Real)) for v in flat):
        raise ModelFileError(f"{where}: arrays hold only strings and numbers")
    try:
        return np.asarray(values, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ModelFileError(f"{where}: not an array of {dtype} ({exc})") from None


def decode_params(data, where, names=None, prefixes=()):
    """The parameters ``{name: value}`` of a JSON object, names checked against ``names``."""
    expect(data, dict, where)
    if names is not None:
        for name in data:
            if name not in names and not name.startswith(prefixes):
                raise ModelFileError(f"{where}: unknown parameter {name!r}")
    return {name: decode(value, f"{where}.{name}") for name, value in data.items()}


def construct(cls, params, where):
    """``cls(**params)``; a ModelFileError naming the problem if it refuses them."""
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: invalid parameters for {cls.__name__} ({exc})") from None


def _finite_json(values, where):
    """Nested lists with their non-finite floats tagged as :func:`encode` does."""
    if isinstance(values, list):
        return [_finite_json(v, where) for v in values]
    return encode(values, where) if isinstance(values, float) else values


def _hashable(key, where):
    try:
        hash(key)
    except TypeError:
        raise ModelFileError(f"{where}: a $dict key must be a scalar, got {key!r}") from None
    return key


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

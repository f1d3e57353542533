"""The JSON encoding of parameter values, networks given as instances included.

Values are JSON scalars, lists and a few tagged objects (see :mod:`._values`).
A network given as an instance (e.g. a shipped model's ``module``) is written as
its constructor kwargs: an :class:`EmotionCNN` does not keep the arguments it was
built with, so they are read back from its layers and checked by building the
network again (on PyTorch's ``meta`` device: no memory) and comparing the two
layer by layer.
"""

import inspect
import math
import numbers

import numpy as np
import torch
from torch import nn

from ..neural_net import EmotionCNN, EnsembleCNN, ImageAugmenter, ResidualPair
from ._values import (
    ModelFileError,
    construct,
    expect,
    expect_keys,
    init_params,
    lookup,
    name_of,
    refuse,
)

# the array dtypes a file may hold (labels, class weights): numbers, strings, python objects
# of those kinds (object arrays of str), never anything that unpickles
_ARRAY_KINDS = "biufUO"


# --------------------------------------------------------------------------- values

def encode(value, where):
    """``value`` as JSON, with the tags of the module docstring."""
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


def decode(data, where):
    """The value of JSON ``data`` written by :func:`encode`."""
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


# --------------------------------------------------------------------------- networks
def emotion_cnn_kwargs(network):
    """The ``EmotionCNN(**kwargs)`` that builds a network of the same layers as ``network``."""
    first = network.features[0]
    convs = [layer for layer in first if isinstance(layer, nn.Conv2d)]
    pairs = [layer for layer in first if isinstance(layer, ResidualPair)]
    linears = [layer for layer in network.head if isinstance(layer, nn.Linear)]
    dropouts = [layer for layer in network.head if isinstance(layer, nn.Dropout)]
    pool = network.pool.output_size
    # residual only where set, so that the files of plain networks read as they were written
    residual = {"convs_per_block": 2 * len(pairs), "residual": True} if pairs else {}
    return {
        "n_classes": linears[-1].out_features,
        "in_channels": convs[0].in_channels,
        "width": convs[0].out_channels,
        "depth": len(network.features),
        "convs_per_block": len(convs),
        "hidden_units": linears[0].out_features if len(linears) == 2 else 0,
        "dropout": float(dropouts[0].p),
        "block_dropout": float(first[-1].p) if isinstance(first[-1], nn.Dropout2d) else 0.0,
        "act_layer": type(first[2]),
        "pool_size": int(pool if isinstance(pool, int) else pool[0]),
        **residual,
    }


def encode_network(network, where):
    """``{"$module": ...}`` for an EmotionCNN or EnsembleCNN instance; refuse anything else."""
    if type(network) is EnsembleCNN:
        return {"$module": name_of(EnsembleCNN),
                "members": [encode_network(m, f"{where}.members[{i}]")
                            for i, m in enumerate(network.members)]}
    if type(network) is not EmotionCNN:
        raise refuse(where, network, "it is neither a plain value nor one of the library's "
                                     "networks (EmotionCNN, EnsembleCNN)")
    try:
        kwargs = emotion_cnn_kwargs(network)
        with torch.device("meta"):
            same = str(EmotionCNN(**kwargs)) == str(network)
    except (AttributeError, IndexError, TypeError, ValueError):
        same = False
    if not same:
        raise refuse(where, network, "its layers were changed after it was built")
    return {"$module": name_of(EmotionCNN),
            "kwargs": {k: encode(v, f"{where}.{k}") for k, v in kwargs.items()}}


def decode_network(data, where):
    """The network of ``{"$module": ...}`` (built on the current default device)."""
    cls = lookup(data.get("$module"), where)
    if cls is EnsembleCNN:
        expect_keys(data, ["$module", "members"], where)
        members = expect(data["members"], list, f"{where}.members")
        if not members:
            raise ModelFileError(f"{where}.members: an ensemble needs at least one member")
        return EnsembleCNN([decode_network(expect(m, dict, f"{where}.members[{i}]"),
                                           f"{where}.members[{i}]")
                            for i, m in enumerate(members)])
    if cls is not EmotionCNN:
        raise ModelFileError(f"{where}: {data['$module']} is not a network")
    expect_keys(data, ["$module", "kwargs"], where)
    kwargs = decode_params(data["kwargs"], f"{where}.kwargs", names=init_params(EmotionCNN))
    return construct(EmotionCNN, kwargs, where)

"""save_model and load_model: a fitted model as one safetensors file with a JSON description.

Format 2 (written by :func:`save_model`): one ``.safetensors`` file; its
header's metadata holds the JSON description under the key ``"fer_sklearn"``
(``{"format": 2, "fer_sklearn": version, "model": node}``, see
:mod:`._estimators`) and its tensors the weights. Format 1 (the shipped models,
written by :func:`~fer_sklearn.pretrained.export_pretrained`): a JSON config
naming one fp16 safetensors file per network (see :mod:`._legacy`). Both are
read by the same code: the description is checked against a fixed list of
classes, the tensors' names, shapes and dtypes against the network it
describes, all before any weight is read; nothing is unpickled or imported.
"""

import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ._estimators import Builder, describe
from ._values import ModelFileError, expect, expect_keys

FORMAT = 2
"""The version of the model files that :func:`save_model` writes."""
METADATA_KEY = "fer_sklearn"
_FLOATS = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32}


def save_model(model, path):
    """Save a fitted pipeline or classifier as one safetensors file, without pickle.

    The file holds the weights as safetensors and everything else (the steps,
    their parameters and fitted values, the classes, the training history) as
    JSON in its header. :func:`load_model` reads it back without running any
    code from it, so it is safe to share and to load from strangers. Pipelines
    of the library's steps, :class:`~fer_sklearn.EmotionClassifier` (also int8,
    see :func:`~fer_sklearn.deploy.quantize`) and the shipped models can be
    saved; anything else (custom networks, callbacks) is refused with a
    ValueError: save those with joblib.

    Parameters
    ----------
    model : EmotionPipeline, Pipeline or EmotionClassifier
        A fitted model.
    path : str or path-like
        The file to write, e.g. ``"model.safetensors"``; replaced atomically.

    Returns
    -------
    path : Path
        The file written.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from fer_sklearn import load_model, load_pretrained, save_model
    >>> model = load_pretrained("fast", device="cpu")
    >>> path = save_model(model, tempfile.mkdtemp() + "/fast.safetensors")
    >>> faces = np.zeros((2, 48, 48), dtype=np.uint8)
    >>> bool((load_model(path).predict(faces) == model.predict(faces)).all())
    True
    """
    from .. import __version__

    node, tensors = describe(model)
    document = {"format": FORMAT, "fer_sklearn": __version__, "model": node}
    path = Path(path)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(handle)
    try:
        save_file(tensors, partial, metadata={METADATA_KEY: json.dumps(document)})
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return path


def load_model(path, *, device=None):
    """Load a model written by :func:`save_model` (or a shipped model's JSON config).

    Never runs code from the file: its JSON may name only the library's
    estimators and a few torch classes, and every tensor is checked against the
    network the JSON describes before it is read.

    Parameters
    ----------
    path : str or path-like
        A ``.safetensors`` file of :func:`save_model`, or the ``.json`` config
        of a model in the shipped format.
    device : str or None, default=None
        Where the network runs (e.g. ``"cpu"``); None keeps the saved setting.

    Returns
    -------
    model : EmotionPipeline, Pipeline or EmotionClassifier
        The fitted model, predicting as the saved one did.

    Raises
    ------
    ValueError
        If the file is missing, truncated, tampered with or of a newer format,
        naming the problem.
    """
    overrides = {} if device is None else {"device": device}
    return read_model(path, overrides)


def read_model(path, overrides):
    """The model of ``path``, with the classifier parameters ``overrides`` (e.g. ``tta``)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no model file at {path}")
    if path.suffix.lower() == ".json":
        from ._legacy import read_config

        document, source = read_config(path)
    else:
        source = SafetensorsSource(path)
        document = _description(source.metadata, path)
    check_document(document, path)
    with torch.device("meta"):  # lay the networks out without memory, to check the tensors
        dry = Builder(source, overrides=overrides, dry=True)
        dry.build(document["model"])
    source.check(dry.expected)
    return Builder(source, overrides=overrides).build(document["model"])


def _description(metadata, path):
    if METADATA_KEY not in metadata:
        raise ModelFileError(f"{path} is a safetensors file without a fer-sklearn model "
                             f"description (no {METADATA_KEY!r} metadata): not a file of "
                             "save_model")
    try:
        return json.loads(metadata[METADATA_KEY])
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: the model description is not valid JSON ({exc})") from None


def check_document(document, path):
    """Check the top level of a description: an object of a format this version reads."""
    expect(document, dict, str(path))
    version = document.get("format")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path}: missing or invalid format version {version!r}")
    if version > FORMAT:
        raise ModelFileError(f"{path} is of model format {version}, from a newer fer-sklearn; "
                             f"this one reads formats 1 to {FORMAT}: upgrade fer-sklearn")
    expect_keys(document, ["format", "model"], str(path), optional=["fer_sklearn", "metrics"])


class SafetensorsSource:
    """The tensors of safetensors files, checked against what a model expects.

    Parameters
    ----------
    path : path
        A safetensors file, or None to add files with :meth:`add`.
    """

    def __init__(self, path=None):
        self.infos, self.metadata, self._where, self._loaded = {}, {}, {}, {}
        if path is not None:
            self.metadata = self.add(path)

    def add(self, path, rename=lambda key: key):
        """Index the tensors of ``path`` under ``rename(key)``; return its metadata."""
        try:
            with safe_open(path, "pt") as file:
                for key in file.keys():
                    info = file.get_slice(key)
                    self.infos[rename(key)] = (info.get_dtype(), tuple(info.get_shape()))
                    self._where[rename(key)] = (path, key)
                return file.metadata() or {}
        except (SafetensorError, OSError) as exc:
            raise ModelFileError(f"{path} is truncated or not a safetensors file ({exc})") from None

    def check(self, expected):
        """Compare the file's tensors with ``{name: (shape, dtype)}`` (None: any size)."""
        missing = sorted(set(expected) - set(self.infos))
        if missing:
            raise ModelFileError(f"missing tensor {missing[0]!r} ({len(missing)} missing)")
        unexpected = sorted(set(self.infos) - set(expected))
        if unexpected:
            raise ModelFileError(f"unexpected tensor {unexpected[0]!r}: the file holds tensors "
                                 "its description does not")
        for name, (shape, dtype) in expected.items():
            found_dtype, found_shape = self.infos[name]
            allowed = sorted(_FLOATS) if dtype.is_floating_point else ["I64"]
            if found_dtype not in allowed:
                raise ModelFileError(f"tensor {name!r} has dtype {found_dtype}, expected "
                                     f"{' or '.join(allowed)}")
            if len(found_shape) != len(shape) or any(
                    want is not None and want != got for want, got in zip(shape, found_shape)):
                raise ModelFileError(f"tensor {name!r} has shape {found_shape}, expected "
                                     f"{tuple('n' if s is None else s for s in shape)}")
            if 0 in found_shape:
                raise ModelFileError(f"tensor {name!r} is empty")

    def tensor(self, name, dtype):
        """The tensor ``name`` in ``dtype``, checked to be finite."""
        path, key = self._where[name]
        if path not in self._loaded:
            try:
                self._loaded[path] = load_file(path)
            except (SafetensorError, OSError) as exc:
                raise ModelFileError(f"{path}: cannot read its tensors ({exc})") from None
        value = self._loaded[path][key]
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise ModelFileError(f"tensor {name!r} holds NaN or infinite values")
        return value.to(dtype)

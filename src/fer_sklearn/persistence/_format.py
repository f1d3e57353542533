"""save_model and load_model: a fitted model as one safetensors file with a JSON description.

Format 2, the only one: one ``.safetensors`` file; its header's metadata holds
the JSON description under the key ``"fer_sklearn"`` (``{"format": 2,
"fer_sklearn": version, "model": node, "sha256": hex}``, see
:mod:`._estimators`), its tensors the weights. ``"sha256"`` is
:func:`._source.tensors_sha256` of the tensors, checked on loading; a shipped
model's file (written by :func:`~fer_sklearn.pretrained.export_pretrained`,
its weights in float16) also records its ``"version"`` and ``"metrics"``. The
description is checked against a fixed list of classes, the tensors' names,
shapes and dtypes against the network it describes, all before any weight is
read; nothing is unpickled or imported. Format 1 (a JSON config over one
safetensors file per network, the shipped models' layout before any release)
is no longer read.
"""

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from .. import __version__
from ..utils import atomic_write
from ._estimators import Builder, describe
from ._source import FORMAT, METADATA_KEY, SafetensorsSource, tensors_sha256
from ._values import ModelFileError, expect, expect_keys


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
    return write_model(model, path)


def write_model(model, path, *, dtype=None, version=None, metrics=None):
    """:func:`save_model`, with the float tensors stored in ``dtype`` (e.g. ``torch.float16``;
    None keeps theirs) and the model's ``version`` and ``metrics`` in the description."""
    node, tensors = describe(model)
    if dtype is not None:
        tensors = {key: value.to(dtype) if value.is_floating_point() else value
                   for key, value in tensors.items()}
    document = {"format": FORMAT, "fer_sklearn": __version__, "model": node,
                "sha256": tensors_sha256(tensors)}
    if version is not None:
        document["version"] = str(version)
    if metrics is not None:
        document["metrics"] = metrics
    path = Path(path)
    with atomic_write(path) as partial:
        save_file(tensors, partial, metadata={METADATA_KEY: json.dumps(document)})
    return path


def load_model(path, *, device=None, tta=None):
    """Load a model written by :func:`save_model` (or a shipped model).

    Never runs code from the file: its JSON may name only the library's
    estimators and a few torch classes, and every tensor is checked against the
    network the JSON describes before it is read.

    Parameters
    ----------
    path : str or path-like
        A ``.safetensors`` file of :func:`save_model` (the shipped models are
        such files too), or the name of a shipped model
        (``"fast"``, ``"default"``, ``"accurate"``, when no such file exists:
        see :func:`~fer_sklearn.load_pretrained`).
    device : str or None, default=None
        Where the network runs (e.g. ``"cpu"``); None keeps the saved setting.
    tta : bool or None, default=None
        Average the classifier's predictions over mirrored and shifted views
        (see :class:`~fer_sklearn.EmotionClassifier`); None keeps the saved setting.

    Returns
    -------
    model : EmotionPipeline, Pipeline or EmotionClassifier
        The fitted model, predicting as the saved one did.

    Raises
    ------
    ValueError
        If the file is missing, truncated, tampered with (its tensors no longer
        match the sha256 it records), of a newer format or of format 1 (a JSON
        config, no longer read), naming the problem.
    """
    overrides = {key: value for key, value in (("device", device), ("tta", tta))
                 if value is not None}
    return read_model(path, overrides)


def read_model(path, overrides):
    """The model of ``path``, with the classifier parameters ``overrides`` (e.g. ``tta``)."""
    path = Path(path)
    if not path.is_file():
        hint = (" (a shipped model loads by name with load_pretrained)"
                if not path.suffix and path.name == str(path) else "")
        raise ValueError(f"no model file at {path}{hint}")
    if path.suffix.lower() == ".json":
        raise ModelFileError(f"{path}: a JSON model config (format 1) is no longer read; model "
                             "files are single .safetensors files of save_model (format 2)")
    source = SafetensorsSource(path)
    document = check_document(_description(source.metadata, path), path)
    with torch.device("meta"):  # lay the networks out without memory, to check the tensors
        dry = Builder(source, overrides=overrides, dry=True)
        dry.build(document["model"])
    source.check(dry.expected)
    model = Builder(source, overrides=overrides).build(document["model"])
    if "sha256" in document and source.sha256() != document["sha256"]:
        raise ModelFileError(f"{path}: its tensors are not the weights its description "
                             "records (their sha256 differs): a damaged or altered file")
    return model


def read_description(path):
    """The checked description of the model file ``path`` (its header only, no weights).

    Parameters
    ----------
    path : str or path-like
        A ``.safetensors`` file of :func:`save_model`.

    Returns
    -------
    document : dict
        ``{"format", "fer_sklearn", "model", "sha256"}``, and for a shipped model
        ``"version"`` and ``"metrics"``.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no model file at {path}")
    return check_document(_description(SafetensorsSource(path).metadata, path), path)


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
    """Check the top level of a description (an object of the format this version reads); return
    it."""
    expect(document, dict, str(path))
    version = document.get("format")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path}: missing or invalid format version {version!r}")
    if version > FORMAT:
        raise ModelFileError(f"{path} is of model format {version}, from a newer fer-sklearn; "
                             f"this one reads format {FORMAT}: upgrade fer-sklearn")
    if version < FORMAT:
        raise ModelFileError(f"{path} is of model format {version}, which is no longer read "
                             f"(this fer-sklearn reads format {FORMAT})")
    expect_keys(document, ["format", "model"], str(path),
                optional=["fer_sklearn", "metrics", "version", "sha256"])
    digest = document.get("sha256")
    if digest is not None and not (isinstance(digest, str) and len(digest) == 64
                                   and all(c in "0123456789abcdef" for c in digest)):
        raise ModelFileError(f"{path}: sha256 must be 64 lowercase hex digits, got {digest!r}")
    if document.get("version") is not None:
        expect(document["version"], str, f"{path}: version")
    if document.get("metrics") is not None:
        expect(document["metrics"], dict, f"{path}: metrics")
    return document

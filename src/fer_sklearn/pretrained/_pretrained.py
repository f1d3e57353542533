"""The pretrained models shipped in the package: one safetensors file of ``save_model`` each.

Each shipped model is ``weights/<name>.safetensors``, a file of
:func:`~fer_sklearn.save_model` (format 2 of :mod:`fer_sklearn.persistence`)
with its weights stored in float16 (the networks were trained and exported in
half precision, so nothing is lost; loading casts them back to float32), read
by the same code and checks as any model file, without pickle. Its
description records the model's version, the sha256 of its weights
(over its tensors, see ``docs/guide/persistence.md``; checked on loading),
its scores and, for ``precision="auto"``, its int8 activation ranges.
"""

import copy
import os
from pathlib import Path

import joblib
import numpy as np
import torch

from ..neural_net import EmotionClassifier, EnsembleCNN
from ..persistence import load_model, read_description, write_model

WEIGHTS_DIR = Path(__file__).parent / "weights"
"""The folder inside the package that holds the shipped models (one safetensors file each)."""


def available_models():
    """List the names of the pretrained models that ship with the package.

    Returns
    -------
    names : list of str
        Sorted, e.g. ``["accurate", "default", "fast"]``.
    """
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.safetensors"))


def load_pretrained(name="default", *, tta=False, device="auto"):
    """Load a pretrained emotion pipeline that ships inside the package.

    Trained from scratch on FER2013 Training only (see ``docs/model_card.md``
    for the recipe, the scores and the limits). Nothing is downloaded and no
    pickle is read: each model is one safetensors file of :func:`save_model`.

    Parameters
    ----------
    name : str, default="default"
        Which model (:func:`available_models` lists them): ``"default"``, a
        distilled network that is both fast and accurate; ``"fast"``, a smaller
        distilled network for the tightest CPU budgets; ``"accurate"``, the
        mean-logit ensemble of three larger networks that the other two learnt
        from (about 3x slower than ``"default"``; see ``docs/model_card.md``).
    tta : bool, default=False
        Average over mirrored and shifted views (10x slower, a little more
        accurate); see :class:`EmotionClassifier`'s ``tta``.
    device : str, default="auto"
        Where the network runs; ``"auto"`` picks CUDA when available.

    Returns
    -------
    pipeline : EmotionPipeline
        A fitted pipeline (grayscale, resize to 48x48, normalize, classifier)
        with ``predict``, ``predict_proba`` and ``classes_`` = the emotion names
        in sorted order (``np.unique``'s, as any fitted classifier has them;
        :data:`EMOTIONS` is FER2013's codes' order), and ``pretrained_``: ``{"name", "version",
        "sha256"}``, the model's name, version and the sha256 of its weights
        (checked on loading). It takes images of any size, grayscale or
        colour, as the pipeline does.

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn import EMOTIONS, load_pretrained
    >>> model = load_pretrained()
    >>> tuple(model.classes_) == tuple(sorted(EMOTIONS))
    True
    >>> model.predict_proba(np.zeros((2, 48, 48), dtype=np.uint8)).shape
    (2, 7)
    """
    path = WEIGHTS_DIR / f"{name}.safetensors"
    if not path.is_file():
        raise ValueError(f"no pretrained model named {name!r}; available: {available_models()}")
    model = load_model(path, device=device, tta=tta)  # which checks the weights' sha256
    document = read_description(path)
    model.pretrained_ = {"name": name, "version": document.get("version"),
                         "sha256": document.get("sha256")}
    return model


def export_pretrained(pipelines, name, *, directory=WEIGHTS_DIR, metrics=None, version=None,
                      params=None):
    """Write fitted pipelines as a pretrained model: one safetensors file, weights in float16.

    The file is one of :func:`~fer_sklearn.save_model`, its float tensors
    stored in float16 and its description recording ``version``, ``metrics``
    and the sha256 of the weights (checked by :func:`load_pretrained`). A
    classifier's int8 activation ranges (``int8_ranges_``, see
    ``factory/calibrate_int8.py``) are kept in it.

    Parameters
    ----------
    pipelines : fitted EmotionPipeline or list of them
        One network, or several combined into a mean-logit ensemble
        (:class:`~fer_sklearn.EnsembleCNN`); they must share the preprocessing
        (image size and normalisation) and the classes.
    name : str
        The model's name: the file is ``<name>.safetensors``.
    directory : path, default=the package's weights folder
        Where the file goes.
    metrics : dict, default=None
        Scores and settings to record.
    version : str, default=None
        The model's version (e.g. the date of the run it comes from).
    params : dict, default=None
        Parameters of the classifier that record how it was trained (the
        recipe's optimizer, rate, epochs, ...), set on the exported copy.

    Returns
    -------
    path : Path
        The file written.
    """
    pipelines = list(pipelines) if isinstance(pipelines, (list, tuple)) else [pipelines]
    first = pipelines[0]
    size = first.named_steps["resize"].size
    normalizer = first.named_steps["normalize"]
    classes = first[-1].classes_.tolist()
    for pipeline in pipelines[1:]:
        other = pipeline.named_steps["normalize"]
        if pipeline.named_steps["resize"].size != size or not np.isclose(other.mean_,
                                                                         normalizer.mean_):
            raise ValueError("the pipelines of an ensemble must share their preprocessing")
        if pipeline[-1].classes_.tolist() != classes:
            raise ValueError("the pipelines of an ensemble must share their classes, in the same "
                             "order")
    model = first
    if len(pipelines) > 1:
        network = EnsembleCNN([pipeline[-1].module_ for pipeline in pipelines])
        ensemble = EmotionClassifier(module=network, classes=np.asarray(first[-1].classes_))
        ensemble = ensemble.initialize_fitted(first[-1].image_shape_)
        model = type(first)(list(first.steps[:-1]) + [(first.steps[-1][0], ensemble)])
    if params:
        model = copy.deepcopy(model)
        for key, value in params.items():  # set_params would build the network anew
            setattr(model[-1], key, value)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return write_model(model, directory / f"{name}.safetensors", dtype=torch.float16,
                       version=version, metrics=metrics)


def resolve_model(model=None, **options):
    """A fitted model from a shipped model's name, a model file, or the model itself.

    The one way the package reads "a model" given by the user (``EmotionRecognizer``,
    a distillation's teacher, the command line's ``--model``).

    Parameters
    ----------
    model : estimator, str, path-like or None, default=None
        A fitted model (returned as it is), a file of :func:`~fer_sklearn.save_model`
        (``.safetensors``: no pickle) or of :func:`joblib.dump` (a pickle: only
        files you trust), or the name of a shipped model; None for ``"default"``.
    **options : dict
        ``device``, ``tta``: for a shipped model or a ``.safetensors`` file.

    Returns
    -------
    model : estimator
        The fitted model.

    Raises
    ------
    ValueError
        When ``model`` is neither a file nor a shipped model's name.
    """
    if model is None:
        return load_pretrained(**options)
    if not isinstance(model, (str, os.PathLike)):
        return model
    path = Path(model)
    if path.is_file():
        if path.suffix.lower() == ".safetensors":
            return load_model(path, **options)
        return joblib.load(path)
    if str(model) in available_models():
        return load_pretrained(str(model), **options)
    raise ValueError(f"no model file at {model}, and {str(model)!r} is not the name of a "
                     f"shipped model ({', '.join(available_models())})")

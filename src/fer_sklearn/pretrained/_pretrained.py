"""The pretrained models shipped in the package: safetensors weights plus a JSON config.

The weights are fp16 safetensors written with the safetensors library itself
rather than skorch's ``save_params`` (which writes a module in its own dtype,
float32, twice the size), an ensemble's members one file each: format 1 of
:mod:`fer_sklearn.persistence`, read by the same code as the files of
:func:`~fer_sklearn.save_model`, with the same checks and no pickle.
"""

import hashlib
import json
from pathlib import Path

import numpy as np
from safetensors.torch import save_file

from ..persistence import load_model
from ..utils import atomic_write

WEIGHTS_DIR = Path(__file__).parent / "weights"
"""The folder inside the package that holds the shipped models (safetensors and JSON)."""


def available_models():
    """List the names of the pretrained models that ship with the package.

    Returns
    -------
    names : list of str
        Sorted, e.g. ``["accurate", "default", "fast"]``.
    """
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.json"))


def load_pretrained(name="default", *, tta=False, device="auto"):
    """Load a pretrained emotion pipeline that ships inside the package.

    Trained from scratch on FER2013 Training only (see ``docs/model_card.md``
    for the recipe, the scores and the limits). Nothing is downloaded and no
    pickle is read: the weights are safetensors and the settings JSON.

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
        in :data:`EMOTIONS` order, and ``pretrained_``: the model's name,
        version and the sha256 of its weight files (checked on loading). It takes images of any size, grayscale or
        colour, as the pipeline does.

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn import EMOTIONS, load_pretrained
    >>> model = load_pretrained()
    >>> tuple(model.classes_) == EMOTIONS
    True
    >>> model.predict_proba(np.zeros((2, 48, 48), dtype=np.uint8)).shape
    (2, 7)
    """
    path = WEIGHTS_DIR / f"{name}.json"
    if not path.exists():
        raise ValueError(f"no pretrained model named {name!r}; available: {available_models()}")
    model = load_model(path, device=device, tta=tta)  # which checks the weights' sha256
    config = json.loads(path.read_text())
    model.pretrained_ = {"name": name, "version": config.get("version"),
                         "weights_sha256": {m["weights"]: m.get("sha256")
                                            for m in config["members"]}}
    ranges = WEIGHTS_DIR / f"{name}.int8"
    if ranges.exists():
        model[-1].int8_ranges_ = read_int8_ranges(ranges)
    return model


def read_int8_ranges(path):
    """Read the int8 activation ranges of a shipped model (``<name>.int8``, JSON), checked.

    Written by ``benchmarks/calibrate_int8.py`` from 512 FER2013 Training faces: the
    range of each activation of the network and the fingerprint of the weights they
    belong to, so that ``precision="auto"`` predicts in int8 on CPUs with VNNI without
    calibration images; the classifier ignores them once the weights change.

    Parameters
    ----------
    path : path
        The ``.int8`` file.

    Returns
    -------
    ranges : dict
        ``{"weights": fingerprint, "ranges": {observer: [low, high]}}``.
    """
    ranges = json.loads(Path(path).read_text())
    ok = (isinstance(ranges, dict) and isinstance(ranges.get("weights"), str)
          and isinstance(ranges.get("ranges"), dict)
          and all(isinstance(v, list) and len(v) == 2
                  and all(isinstance(x, (int, float)) for x in v)
                  for v in ranges["ranges"].values()))
    if not ok:
        raise ValueError(f"{path}: expected {{'weights': str, "
                         f"'ranges': {{name: [low, high]}}}}")
    return ranges


def export_pretrained(pipelines, name, *, directory=WEIGHTS_DIR, member_names=None, metrics=None,
                      version=None):
    """Write fitted pipelines as a pretrained model: fp16 safetensors and a JSON config.

    Parameters
    ----------
    pipelines : list of fitted EmotionPipeline
        One network, or several for an ensemble; they must share the
        preprocessing (image size and normalisation).
    name : str
        The model's name (``<name>.json``).
    directory : path, default=the package's weights folder
        Where the config and the weights go.
    member_names : list of str, default=None
        File stems of the members' weights (``<stem>.safetensors``), so that
        several configs can share one weights file; default ``<name>-<i>``.
    metrics : dict, default=None
        Scores to record in the config.
    version : str, default=None
        The model's version (e.g. the date of the run it comes from).

    Returns
    -------
    path : Path
        The config file written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    first = pipelines[0]
    size = first.named_steps["resize"].size
    normalizer = first.named_steps["normalize"]
    classes = first[-1].classes_.tolist()
    members = []
    for i, pipeline in enumerate(pipelines):
        other = pipeline.named_steps["normalize"]
        if pipeline.named_steps["resize"].size != size or not np.isclose(other.mean_, normalizer.mean_):
            raise ValueError("the pipelines of an ensemble must share their preprocessing")
        if pipeline[-1].classes_.tolist() != classes:
            raise ValueError("the pipelines of an ensemble must share their classes, in the same order")
        clf = pipeline[-1]
        stem = member_names[i] if member_names else f"{name}-{i}"
        state = {k: (v.half() if v.is_floating_point() else v).contiguous().cpu()
                 for k, v in clf.module_.state_dict().items()}
        with atomic_write(directory / f"{stem}.safetensors") as partial:
            save_file(state, partial)
        module = {k: v for k, v in clf.get_params_for("module").items()}
        module["n_classes"] = len(clf.classes_)
        digest = hashlib.sha256((directory / f"{stem}.safetensors").read_bytes()).hexdigest()
        members.append({"module": module, "weights": f"{stem}.safetensors", "sha256": digest})
    config = {
        "format": 1,
        "classes": classes,
        "size": int(size),
        "normalize": {"mean": float(normalizer.mean_), "scale": float(normalizer.scale_)},
        "members": members,
        "version": version,
        "metrics": metrics or {},
    }
    path = directory / f"{name}.json"
    with atomic_write(path) as partial:
        partial.write_text(json.dumps(config, indent=2) + "\n")
    return path


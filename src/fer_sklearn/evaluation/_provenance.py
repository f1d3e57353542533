"""Where an evaluation came from: the data, the model and its settings, when, on what machine."""

import datetime
import os
import platform

import torch

from .. import __version__
from ..utils import describe_cpu

_SIMPLE = (str, int, float, bool, type(None))
_CLASSIFIER_SETTINGS = ("max_epochs", "batch_size", "lr", "lr_schedule", "class_weight", "tta",
                        "precision", "random_state")


def machine_info():
    """Describe the machine this process runs on, for the provenance of a measurement.

    Returns
    -------
    info : dict
        ``cpu_model`` (the model name ``lscpu`` shows), ``isa`` (which of AVX2,
        AVX-512, VNNI, bf16 and AMX the CPU has, as
        :func:`~fer_sklearn.utils.describe_cpu` reads them), ``cpu_count``,
        ``platform`` and ``load_average`` (1, 5 and 15 minutes; None where the
        system has none).

    Examples
    --------
    >>> from fer_sklearn.evaluation import machine_info
    >>> sorted(machine_info())
    ['cpu_count', 'cpu_model', 'isa', 'load_average', 'platform']
    """
    cpu = describe_cpu()
    try:
        load = [round(value, 2) for value in os.getloadavg()]
    except OSError:  # no load average on this system
        load = None
    return {
        "cpu_model": cpu["cpu"],
        "isa": cpu["flags"].split(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "load_average": load,
    }


def model_settings(estimator):
    """The settings that say which model this is: its class, network and main parameters."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    settings = {"estimator": type(estimator).__name__}
    if hasattr(estimator, "steps"):
        settings["steps"] = [name for name, _ in estimator.steps]
    shipped = getattr(estimator, "pretrained_", None)  # a shipped model: which one, exactly
    if isinstance(shipped, dict):
        settings["pretrained"] = shipped.get("name")
        settings["pretrained_version"] = shipped.get("version")
        settings["weights_sha256"] = shipped.get("sha256")
    module = getattr(final, "module_", None)
    if module is not None:
        settings["network"] = type(module).__name__
        settings["network_parameters"] = int(sum(p.numel() for p in module.parameters()))
    try:
        params = final.get_params(deep=False)
    except (AttributeError, TypeError):  # not a scikit-learn estimator, or a partial one
        params = None
    if params:
        settings.update({key: params[key] for key in _CLASSIFIER_SETTINGS
                         if key in params and isinstance(params[key], _SIMPLE)})
        settings.update({key: value for key, value in params.items()
                         if key.startswith("module__") and isinstance(value, _SIMPLE)})
    return settings


def provenance(estimator, data, n_images):
    """The provenance record of one evaluation (JSON-ready).

    Parameters
    ----------
    estimator : fitted classifier
    data : str or None
        What the images are (e.g. ``"3589 images from fer2013.csv.gz (PublicTest)"``).
    n_images : int
    """
    versions = {"fer_sklearn": __version__, "python": platform.python_version(),
                "torch": torch.__version__}
    return {
        "data": data or "images passed to evaluate()",
        "n_images": int(n_images),
        "model": model_settings(estimator),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "versions": versions,
    }

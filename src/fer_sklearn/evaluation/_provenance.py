"""Where an evaluation came from: the data, the model and its settings, when, with what."""

import datetime
import platform

_SIMPLE = (str, int, float, bool, type(None))
_CLASSIFIER_SETTINGS = ("max_epochs", "batch_size", "lr", "lr_schedule", "class_weight", "tta",
                        "precision", "random_state")


def model_settings(estimator):
    """The settings that say which model this is: its class, network and main parameters."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    settings = {"estimator": type(estimator).__name__}
    if hasattr(estimator, "steps"):
        settings["steps"] = [name for name, _ in estimator.steps]
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
    from .. import __version__

    versions = {"fer_sklearn": __version__, "python": platform.python_version()}
    try:
        import torch

        versions["torch"] = torch.__version__
    except ImportError:  # an estimator of another library
        pass
    return {
        "data": data or "images passed to evaluate()",
        "n_images": int(n_images),
        "model": model_settings(estimator),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "versions": versions,
    }

"""Fitted estimators as JSON nodes and tensors, and back.

A node is ``{"class", "params", "steps"}`` for a pipeline and ``{"class",
"params", "fitted"}`` for a transformer or an :class:`EmotionClassifier`. A
classifier's network weights are tensors named ``<step>.module_.<key>`` (no
step name for a bare classifier), the calibration images of an int8 model
``<step>.int8_calibration_``; the int8 ranges of a shipped model (``int8_ranges_``) are
JSON in the node.
"""

import math
import numbers

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNetClassifier
from skorch.history import History
from skorch.net import NeuralNet

from ._codec import decode, decode_params, encode, encode_array
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

PIPELINES = ("fer_sklearn.EmotionPipeline", "sklearn.pipeline.Pipeline")
CLASSIFIER = "fer_sklearn.EmotionClassifier"
_CLASSIFIER_FITTED = ("classes_", "image_shape_", "n_features_in_", "class_weight_", "history_",
                      "int8_calibration_")
# the prefixed parameters a classifier passes on to the parts skorch builds
_ROUTED = ("module__", "criterion__", "optimizer__", "iterator_train__", "iterator_valid__",
           "dataset__")


def check_count(value, where):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ModelFileError(f"{where}: expected a positive integer, got {value!r}")
    return value


def check_finite(value, where):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ModelFileError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def check_positive(value, where):
    if check_finite(value, where) <= 0:
        raise ModelFileError(f"{where}: expected a positive number, got {value!r}")
    return float(value)


def check_pixel_range(value, where):
    if value not in ("0-255", "0-1", None):
        raise ModelFileError(f"{where}: expected '0-255', '0-1' or null, got {value!r}")
    return value


# the fitted attributes of each transformer, and how each is checked when read
TRANSFORMERS = {
    "fer_sklearn.preprocessing.Grayscale": {"n_features_in_": check_count},
    "fer_sklearn.preprocessing.ImageResizer": {"n_features_in_": check_count},
    "fer_sklearn.preprocessing.PixelNormalizer": {
        "mean_": check_finite, "scale_": check_positive, "pixel_range_": check_pixel_range,
        "n_features_in_": check_count},
    "fer_sklearn.FaceCropper": {},
}


# --------------------------------------------------------------------------- saving
def describe(estimator, where="model", prefix="", tensors=None):
    """``(node, tensors)``: the JSON node of a fitted estimator and its named tensors."""
    tensors = {} if tensors is None else tensors
    name = name_of(type(estimator))
    if name is None and callable(getattr(estimator, "to_classifier", None)):
        # e.g. a distilled student: stored as the plain classifier it is, without its teacher
        return describe(estimator.to_classifier(), where, prefix, tensors)
    if name is None or not (name in PIPELINES or name == CLASSIFIER or name in TRANSFORMERS):
        raise refuse(where, estimator, "save_model stores the library's pipelines, "
                                       "transformers and EmotionClassifier")
    params = estimator.get_params(deep=False)
    if name in PIPELINES:
        params.pop("steps")
        steps = [[step, describe(part, f"{where}.{step}", f"{prefix}{step}.", tensors)[0]]
                 for step, part in estimator.steps]
        node = {"class": name, "params": _encode_params(params, where), "steps": steps}
        return node, tensors
    check_is_fitted(estimator, "n_features_in_" if name != "fer_sklearn.FaceCropper" else [])
    node = {"class": name, "params": _encode_params(params, where)}
    if name == CLASSIFIER:
        node["fitted"] = _classifier_state(estimator, where, prefix, tensors)
    else:
        node["fitted"] = {attr: encode(getattr(estimator, attr), f"{where}.{attr}")
                          for attr in TRANSFORMERS[name]}
    return node, tensors


def _encode_params(params, where):
    # in name order: the same model gives the same file, however its parameters were set
    return {key: encode(params[key], f"{where}.{key}") for key in sorted(params)}


def _classifier_state(clf, where, prefix, tensors):
    weights = getattr(clf, "class_weight_", None)
    calibration = getattr(clf, "int8_calibration_", None)
    for key, value in clf.module_.state_dict().items():
        tensors[f"{prefix}module_.{key}"] = value.detach().cpu().contiguous().clone()
    if calibration is not None:
        tensors[f"{prefix}int8_calibration_"] = torch.from_numpy(np.array(calibration))
    return {
        "classes_": encode_array(clf.classes_, f"{where}.classes_"),
        "image_shape_": [int(v) for v in clf.image_shape_],
        "n_features_in_": int(clf.n_features_in_),
        "class_weight_": None if weights is None else encode_array(weights, where),
        "history_": _plain(clf.history_.to_list(), f"{where}.history_"),
        "int8_calibration_": calibration is not None,
        **({"int8_ranges_": _int8_ranges(ranges, f"{where}.int8_ranges_")}
           if (ranges := getattr(clf, "int8_ranges_", None)) is not None else {}),
    }


def _int8_ranges(value, where):
    """Checked int8 ranges: ``{"weights": str, "ranges": {name: [low, high]}}``."""
    value = expect_keys(value, ("weights", "ranges"), where)
    expect(value["weights"], str, f"{where}.weights")
    ranges = {}
    for name, pair in expect(value["ranges"], dict, f"{where}.ranges").items():
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ModelFileError(f"{where}.ranges.{name}: expected [low, high]")
        ranges[str(name)] = [check_finite(v, f"{where}.ranges.{name}") for v in pair]
    return {"weights": value["weights"], "ranges": ranges}


def _plain(value, where):
    """The history as plain JSON values (numpy scalars become numbers)."""
    if isinstance(value, dict):
        return {str(k): _plain(v, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, where) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise refuse(where, value, "the history holds a value that is not a number or a string")


# --------------------------------------------------------------------------- loading
class Builder:
    """Rebuild estimators from nodes, with the tensors of ``source``.

    With ``dry=True`` (run under PyTorch's ``meta`` device) the networks are
    only laid out, and :attr:`expected` collects the tensors they need, to be
    compared with the file before a byte of weights is read.
    """

    def __init__(self, source, *, overrides=None, dry=False):
        self.source = source
        self.overrides = overrides or {}
        self.dry = dry
        self.expected = {}

    def build(self, node, where="model", prefix=""):
        """The fitted estimator of ``node``."""
        expect(node, dict, where)
        cls = lookup(node.get("class"), f"{where}.class")
        name = node["class"]
        if name in PIPELINES:
            expect_keys(node, ["class", "params", "steps"], where)
            steps = []
            for i, step in enumerate(expect(node["steps"], list, f"{where}.steps")):
                if not (isinstance(step, list) and len(step) == 2 and isinstance(step[0], str)):
                    raise ModelFileError(f"{where}.steps[{i}]: expected [name, estimator]")
                steps.append((step[0], self.build(step[1], f"{where}.{step[0]}",
                                                  f"{prefix}{step[0]}.")))
            params = decode_params(node["params"], f"{where}.params", names=_names(cls))
            params.pop("steps", None)
            return construct(cls, dict(params, steps=steps), where)
        if name != CLASSIFIER and name not in TRANSFORMERS:
            raise ModelFileError(f"{where}: {name} is not an estimator")
        expect_keys(node, ["class", "params", "fitted"], where)
        prefixes = _ROUTED if name == CLASSIFIER else ()
        params = decode_params(node["params"], f"{where}.params", names=_names(cls),
                               prefixes=prefixes)
        if name == CLASSIFIER:
            params.update(self.overrides)
        estimator = construct(cls, params, where)
        _check_params(estimator, where)
        if name == CLASSIFIER:
            return self._restore_classifier(estimator, node["fitted"], where, prefix)
        fitted = expect_keys(node["fitted"], list(TRANSFORMERS[name]), f"{where}.fitted")
        for attr, check in TRANSFORMERS[name].items():
            setattr(estimator, attr, check(fitted[attr], f"{where}.fitted.{attr}"))
        return estimator

    def _restore_classifier(self, clf, fitted, where, prefix):
        where = f"{where}.fitted"
        fitted = expect_keys(fitted, _CLASSIFIER_FITTED, where, optional=("int8_ranges_",))
        history, calibrated = _set_fitted(clf, fitted, where)
        if self.dry:
            with clf._current_init_context("module"):
                clf.initialize_module()
            for key, value in clf.module_.state_dict().items():
                self.expected[f"{prefix}module_.{key}"] = (tuple(value.shape), value.dtype)
            if calibrated:
                self.expected[f"{prefix}int8_calibration_"] = ((None, 1, *clf.image_shape_),
                                                               torch.float16)
            return clf
        try:
            clf.initialize()
            state = {key: self.source.tensor(f"{prefix}module_.{key}", value.dtype)
                     for key, value in clf.module_.state_dict().items()}
            clf.module_.load_state_dict(state)
        except RuntimeError as exc:  # e.g. a device that this machine does not have
            raise ModelFileError(f"{where}: cannot build the network here ({exc})") from None
        clf.module_.eval()
        clf.history_ = History(history)
        if calibrated:
            calibration = self.source.tensor(f"{prefix}int8_calibration_", torch.float16)
            clf.int8_calibration_ = calibration.numpy().astype(np.float16)
        if "int8_ranges_" in fitted:
            clf.int8_ranges_ = _int8_ranges(fitted["int8_ranges_"], f"{where}.int8_ranges_")
        return clf


def _set_fitted(clf, fitted, where):
    """Check and set a classifier's fitted attributes; its history and whether it is int8."""
    classes = _classes(fitted["classes_"], f"{where}.classes_")
    if clf.classes is not None and np.asarray(clf.classes).tolist() != classes.tolist():
        raise ModelFileError(f"{where}.classes_ differ from the classes parameter")
    shape = expect(fitted["image_shape_"], list, f"{where}.image_shape_")
    if len(shape) != 2:
        raise ModelFileError(f"{where}.image_shape_: expected [height, width], got {shape}")
    shape = tuple(check_count(v, f"{where}.image_shape_") for v in shape)
    n_features = check_count(fitted["n_features_in_"], f"{where}.n_features_in_")
    if n_features != shape[0] * shape[1]:
        raise ModelFileError(f"{where}.n_features_in_ is {n_features}, but the images are "
                             f"{shape[0]}x{shape[1]}")
    history = expect(fitted["history_"], list, f"{where}.history_")
    if not all(isinstance(epoch, dict) for epoch in history):
        raise ModelFileError(f"{where}.history_: expected a list of epochs (objects)")
    calibrated = fitted["int8_calibration_"]
    if not isinstance(calibrated, bool):
        raise ModelFileError(f"{where}.int8_calibration_: expected true or false")
    clf.classes_inferred_ = classes
    clf.class_weight_ = _class_weights(fitted["class_weight_"], len(classes), where)
    clf.image_shape_, clf.n_features_in_ = shape, n_features
    clf.augmenter_ = None
    clf._split_seed = None
    return history, calibrated


def _names(cls):
    names = init_params(cls)
    if name_of(cls) == CLASSIFIER:  # skorch's own parameters come through **kwargs
        names += init_params(NeuralNetClassifier) + init_params(NeuralNet)
    return names


def _check_params(estimator, where):
    check = getattr(estimator, "_check_params", None) or estimator._validate_params
    try:
        check()
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: invalid parameters ({exc})") from None


def _classes(data, where):
    classes = decode(data, where)
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or len(classes) == 0:
        raise ModelFileError(f"{where}: expected a non-empty array of labels")
    if len(set(classes.tolist())) != len(classes):
        raise ModelFileError(f"{where}: the labels repeat")
    return classes


def _class_weights(data, n_classes, where):
    if data is None:
        return None
    weights = decode(data, f"{where}.class_weight_")
    if (not isinstance(weights, np.ndarray) or weights.shape != (n_classes,)
            or weights.dtype.kind != "f" or not np.all(np.isfinite(weights)) or weights.min() < 0):
        raise ModelFileError(f"{where}.class_weight_: expected {n_classes} non-negative numbers")
    return weights

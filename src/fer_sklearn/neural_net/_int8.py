"""int8 prediction on x86 CPUs: calibration, the quantized copy of a network, its predictor.

PyTorch's post-training static quantization (FX graph mode, x86 backend): weights per
channel, activations per tensor, each activation's range observed on calibration images
(or restored from ranges observed once, :func:`activation_ranges`, as the shipped models
carry them); convolution, folded batch norm and ReLU run as one int8 op, the linear head
stays float32 (measured: 99.3-99.4% of PublicTest labels as float32 instead of 99.1-99.3%,
at the same speed).
"""

import contextlib
import copy
import hashlib
import warnings

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.ao.quantization import QConfig, get_default_qconfig_mapping
from torch.ao.quantization.observer import HistogramObserver, MinMaxObserver
from torch.ao.quantization.observer import default_per_channel_weight_observer as weights
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

from ..utils import cpu_features
from ._device import resolve_device
from ._predictor import FastPredictor


def cpu_has_vnni():
    """Whether this CPU multiplies int8 with VNNI instructions (no 16-bit saturation)."""
    return cpu_features()["vnni"]


def int8_qconfig_mapping(full_range=None, observer=HistogramObserver):
    """PyTorch's x86 int8 settings, with activations over the full 8 bits on VNNI CPUs.

    The x86 default reduces activations to 7 bits so that CPUs without VNNI
    cannot saturate their 16-bit sums; with VNNI the 8th bit is free and keeps
    more predictions identical to float32 (measured on the shipped models:
    99.1-99.4% of PublicTest labels instead of 98.6-99.0%, at the same speed).
    Linear layers stay float32.
    """
    mapping = get_default_qconfig_mapping("x86")
    if full_range is None:
        full_range = cpu_has_vnni()
    span = dict(reduce_range=False, quant_min=0, quant_max=255 if full_range else 127)
    mapping.set_global(QConfig(activation=observer.with_args(**span), weight=weights))
    return mapping.set_object_type(nn.Linear, None)


@contextlib.contextmanager
def _quiet():
    """PyTorch's own deprecation notes about its observers and FX quantization, silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="torch.ao")
        warnings.filterwarnings("ignore", message="torch.ao.quantization is deprecated")
        yield


def _prepared(module, example, observer=HistogramObserver, full_range=None):
    with _quiet():
        return prepare_fx(copy.deepcopy(module).cpu().eval(),
                          int8_qconfig_mapping(full_range, observer), example_inputs=(example,))


def _observers(prepared):
    return {name: m for name, m in prepared.named_modules()
            if name.startswith("activation_post_process")}


def weights_fingerprint(module):
    """SHA-256 of ``module``'s parameters and buffers, to tell which weights ranges belong to."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def activation_ranges(module, images, batch_size=128):
    """The int8 range of each activation of ``module``, observed on ``images`` ``(n, 1, h, w)``.

    Returns
    -------
    ranges : dict
        ``{"weights": weights_fingerprint(module), "ranges": {observer: [low, high]}}``, JSON-ready.
    """
    images = torch.as_tensor(np.asarray(images, dtype=np.float32))
    prepared = _prepared(module, images[:1], full_range=True)
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            prepared(images[start:start + batch_size])
    ranges = {}
    for name, observer in _observers(prepared).items():
        scale, zero = (float(v) for v in observer.calculate_qparams())
        ranges[name] = [(observer.quant_min - zero) * scale, (observer.quant_max - zero) * scale]
    return {"weights": weights_fingerprint(module), "ranges": ranges}


def quantize_network(module, images=None, batch_size=128, *, ranges=None):
    """An int8 copy of ``module`` for x86 CPUs, calibrated on ``images`` ``(n, 1, h, w)``.

    Or, with ``ranges`` (from :func:`activation_ranges`), set to the ranges observed then,
    over 8 bits with VNNI and 7 elsewhere (measured with oneDNN capped below VNNI: 8 bits
    overflowed and ``fast`` lost 4 points of PublicTest accuracy; with 7 bits 98.6% of its
    labels stay as float32).
    """
    torch.backends.quantized.engine = "x86"
    if ranges is None:
        images = torch.as_tensor(np.asarray(images, dtype=np.float32))
        prepared = _prepared(module, images[:1])
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                prepared(images[start:start + batch_size])
    else:
        example = torch.zeros(1, *next(module.parameters()).shape[1:2], 8, 8)
        prepared = _prepared(module, example, observer=MinMaxObserver)
        observers = _observers(prepared)
        if set(observers) != set(ranges["ranges"]):
            raise ValueError("the int8 ranges were observed on another network")
        for name, observer in observers.items():
            low, high = ranges["ranges"][name]
            observer.min_val.fill_(low)
            observer.max_val.fill_(high)
    with _quiet():
        return convert_fx(prepared)


class Int8Predictor(FastPredictor):
    """:class:`FastPredictor` over an int8 copy of the network (CPU only).

    ``calibration`` is images ``(n, 1, h, w)`` or ranges from :func:`activation_ranges`.
    """

    precision = "int8"

    def __init__(self, module, calibration, nonlinearity):
        self.calibration = calibration
        super().__init__(module, torch.device("cpu"), None, nonlinearity)

    def _inference_copy(self, module):
        if isinstance(self.calibration, dict):
            return quantize_network(module, ranges=self.calibration)
        return quantize_network(module, self.calibration)


def quantize(model, X, *, n_images=512, random_state=0):
    """A copy of a fitted model that predicts with int8 arithmetic (x86 CPUs).

    Post-training static quantization, calibrated on up to ``n_images`` of
    ``X`` (a few hundred training faces suffice): 2-3x the images/s of the
    float32 model on a CPU with VNNI, at a small cost in agreement with it (see
    the performance guide for the shipped models). The calibration images are
    kept in the model (``int8_calibration_``), so the int8 network is rebuilt
    after pickling or further training, and its ``precision`` is set to
    ``"int8"``; ``set_params(precision="32")`` goes back to float32.

    Parameters
    ----------
    model : EmotionPipeline or EmotionClassifier
        A fitted pipeline (e.g. :func:`~fer_sklearn.load_pretrained`) or classifier on the CPU.
    X : array-like of images
        Calibration images, as the model takes them (raw pixels for a pipeline).
    n_images : int, default=512
        How many images of ``X`` (drawn at random) calibrate.
    random_state : int, RandomState or None, default=0
        Which images are drawn.

    Returns
    -------
    model : EmotionPipeline or EmotionClassifier
        The int8 copy; ``model`` itself is left as it was.

    Examples
    --------
    >>> from fer_sklearn import load_pretrained, make_faces
    >>> from fer_sklearn.deploy import quantize
    >>> X, _ = make_faces(64, random_state=0)
    >>> int8 = quantize(load_pretrained("fast", device="cpu"), X)
    >>> int8.predict_proba(X[:3]).shape
    (3, 7)
    """
    model = copy.deepcopy(model)
    clf = model[-1] if hasattr(model, "steps") else model
    if not hasattr(clf, "_int8_source"):  # an EmotionClassifier (imports it not)
        raise TypeError(f"quantize takes an emotion pipeline or EmotionClassifier, got "
                        f"{type(model).__name__}")
    check_is_fitted(clf)
    if resolve_device(clf.device) != "cpu":
        raise ValueError(f"int8 inference runs on the CPU; the model is on {clf.device!r} "
                         "(load it with device='cpu')")
    images = model[:-1].transform(X) if clf is not model else X
    images = clf._images(images, reset=False)
    if len(images) > n_images:
        pick = check_random_state(random_state).choice(len(images), n_images, replace=False)
        images = images[np.sort(pick)]
    clf.int8_calibration_ = np.ascontiguousarray(images, dtype=np.float16)  # half the bytes
    clf.set_params(precision="int8")
    return model

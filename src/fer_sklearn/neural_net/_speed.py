"""How a net runs on its device: bf16 autocast, channels-last and batches cut on the device."""

import weakref

import torch
from sklearn.utils._param_validation import validate_parameter_constraints
from skorch.utils import to_tensor
from torch.utils.data import DataLoader

from ._batches import DeviceBatches, in_memory_arrays
from ._device import resolve_device
from ._dispatch import cpu_precision
from ._int8 import Int8Predictor, weights_fingerprint
from ._predictor import FastPredictor, weights_version

PRECISIONS = ("auto", "bf16", "32", "float32", "int8")  # "float32" is "32"
# each net's folded copy for prediction, dropped with the net
_PREDICTORS = weakref.WeakKeyDictionary()


class DeviceSpeedMixin:
    """Mixin for a skorch net with a ``precision`` (``"auto"``, ``"bf16"``, ``"32"``, ``"int8"``).

    On CUDA the module and its inputs use the channels-last layout and
    ``precision="auto"`` means bf16 autocast. On a CPU, ``"auto"`` predicts with
    what the CPU runs fastest, decided once per process
    (:mod:`~fer_sklearn.neural_net._dispatch`): bf16 with AMX, int8 with VNNI
    where the net has int8 ranges (``int8_calibration_`` or ``int8_ranges_``),
    else float32; it trains under bf16 autocast with AMX, in float32 elsewhere
    (int8 is for prediction only). Training batches
    of in-memory data are cut by index on the device, and predictions come from
    a folded copy of the network, rebuilt whenever the weights change.
    """

    def _on_cuda(self):
        return torch.device(resolve_device(self.device)).type == "cuda"

    def _precision(self):
        """``precision``, checked as ``fit`` checks it (``set_params`` checks nothing), with
        ``"float32"`` read as ``"32"``."""
        constraints = {"precision": self._parameter_constraints["precision"]}
        validate_parameter_constraints(constraints, {"precision": self.precision},
                                       type(self).__name__)
        return "32" if self.precision == "float32" else self.precision

    def _autocast_dtype(self):
        """``torch.bfloat16`` where ``precision`` asks for autocast here, else ``None``."""
        precision = self._precision()
        if precision == "bf16":
            return torch.bfloat16
        if precision != "auto":
            return None
        if self._on_cuda():
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
        return torch.bfloat16 if cpu_precision() == "bf16" else None  # AMX tiles

    def initialize_module(self):
        """Build ``module_`` (channels-last on CUDA)."""
        super().initialize_module()
        if self._on_cuda():
            self.module_ = self.module_.to(memory_format=torch.channels_last)
        return self

    def infer(self, x, **fit_params):
        """The module's output for ``x``, under bf16 autocast and channels-last where they apply."""
        device = torch.device(resolve_device(self.device))
        x = to_tensor(x, device=device)
        if device.type == "cuda" and isinstance(x, torch.Tensor) and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        dtype = self._autocast_dtype()
        if dtype is None:
            return super().infer(x, **fit_params)
        with torch.autocast(device.type, dtype=dtype):
            out = super().infer(x, **fit_params)
        return out.float()

    def get_iterator(self, dataset, training=False):
        """Training batches cut on the device from in-memory data; skorch's iterators otherwise.

        With the default ``iterator_train`` and in-memory arrays, the training
        images move to the device once and each batch is an index slice of them
        (:class:`~fer_sklearn.neural_net._batches.DeviceBatches`), shuffled every
        epoch unless ``iterator_train__shuffle=False``. Other iterators or
        iterator options fall back to skorch's ``DataLoader``.
        """
        options = self.get_params_for("iterator_train")
        arrays = in_memory_arrays(dataset) if training else None
        if arrays is None or self.iterator_train is not DataLoader or set(options) - {"shuffle"}:
            return super().get_iterator(dataset, training=training)
        batch_size = len(arrays[1]) if self.batch_size == -1 else self.batch_size
        return DeviceBatches(*arrays, batch_size, resolve_device(self.device),
                             shuffle=options.get("shuffle", True))

    def _int8_source(self):
        """Calibration images (``int8_calibration_``), or ranges observed for these very
        weights (``int8_ranges_``), or None."""
        calibration = getattr(self, "int8_calibration_", None)
        if calibration is not None:
            return calibration
        ranges = getattr(self, "int8_ranges_", None)
        if ranges is not None and ranges.get("weights") == weights_fingerprint(self.module_):
            return ranges
        return None

    def inference_precision(self):
        """What ``predict_proba`` computes in here: ``"32"``, ``"bf16"`` or ``"int8"``.

        ``precision="auto"`` on a CPU is the process's choice
        (``fer_sklearn.show_versions()`` reports it), float32 where
        it is int8 but the net has no int8 ranges.
        """
        precision = self._precision()
        if self._on_cuda():
            if precision == "int8":
                raise ValueError("precision='int8' runs on the CPU only; use 'auto', 'bf16' or "
                                 "'32' on CUDA, or device='cpu'")
            auto = precision == "auto" and torch.cuda.is_bf16_supported()
            return "bf16" if precision == "bf16" or auto else "32"
        if precision == "auto":
            precision = cpu_precision()
            return "32" if precision == "int8" and self._int8_source() is None else precision
        if precision == "int8" and self._int8_source() is None:
            raise ValueError("precision='int8' needs the ranges of the network's activations: "
                             "calibrate it with fer_sklearn.deploy.quantize(model, X) on a few "
                             "hundred training images")
        return precision

    def _fast_predictor(self):
        """The network folded for inference, rebuilt when its weights, device or precision change.

        Kept outside the estimator's ``__dict__`` (prediction leaves the
        estimator as it was, and pickles never carry it).
        """
        device = torch.device(resolve_device(self.device))
        key = (weights_version(self.module_), device, self._precision(), cpu_precision(),
               id(getattr(self, "int8_calibration_", None)),
               id(getattr(self, "int8_ranges_", None)))
        cached = _PREDICTORS.get(self)
        if cached is not None and cached.key == key:
            return cached
        precision = self.inference_precision()
        nonlinearity = self._get_predict_nonlinearity()
        if precision == "int8":
            cached = Int8Predictor(self.module_, self._int8_source(), nonlinearity)
        else:
            dtype = torch.bfloat16 if precision == "bf16" else None
            cached = FastPredictor(self.module_, device, dtype, nonlinearity)
        cached.key = key
        _PREDICTORS[self] = cached
        return cached

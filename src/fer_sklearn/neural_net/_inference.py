"""Fast prediction: a frozen copy of the network with batch norm folded into the convolutions."""

import contextlib
import copy
import os
import time

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fold_batch_norm(module):
    """A copy of ``module`` in eval mode, each ``Conv2d`` followed by ``BatchNorm2d`` fused into one.

    In eval mode batch norm is an affine map per channel, so it folds exactly
    into the weights and bias of the convolution before it (up to float
    rounding). Works on any module whose convolutions and batch norms sit next
    to each other in an ``nn.Sequential`` (:class:`EmotionCNN`, :class:`EnsembleCNN`).

    Parameters
    ----------
    module : torch.nn.Module
        The network; it is not changed.

    Returns
    -------
    folded : torch.nn.Module
        The copy, in eval mode.

    Examples
    --------
    >>> import torch
    >>> from fer_sklearn import EmotionCNN
    >>> from fer_sklearn.neural_net._inference import fold_batch_norm
    >>> net = EmotionCNN(width=4, depth=2).eval()
    >>> folded = fold_batch_norm(net)
    >>> any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    False
    >>> x = torch.randn(2, 1, 24, 24)
    >>> torch.allclose(net(x), folded(x), atol=1e-5)
    True
    """
    module = copy.deepcopy(module).eval()
    for sequential in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        layers = list(sequential)
        fused, i = [], 0
        while i < len(layers):
            conv = layers[i]
            if (isinstance(conv, nn.Conv2d) and i + 1 < len(layers)
                    and isinstance(layers[i + 1], nn.BatchNorm2d)):
                fused.append(fuse_conv_bn_eval(conv, layers[i + 1]))
                i += 2
            else:
                fused.append(conv)
                i += 1
        if len(fused) < len(layers):
            sequential._modules.clear()
            for j, layer in enumerate(fused):
                sequential.add_module(str(j), layer)
    return module


SMALL_BATCH = 64
# images per forward pass on a CPU: 64 keep a VGG-style net's activations in the caches
# (measured on the shipped models: 1.2-1.55x the images/s of passes of 256)
CPU_CHUNK = 64


def busy_cores(samples=5, interval=0.001):
    """Tasks that other programs are running on the CPUs, the fewest of a few samples.

    Linux counts the runnable tasks at each instant (``/proc/loadavg``, the
    count before the slash); this thread is one of them and is left out, and
    the fewest over ``samples`` reads ``interval`` seconds apart ignores a
    task that only passes through. The load *average* is no measure here: it
    counts this process's own recent predictions, so a long batch job would
    throttle itself. Elsewhere the 1-minute load average is the best guess.
    """
    counts = []
    try:
        for i in range(samples):
            if i:
                time.sleep(interval)
            with open("/proc/loadavg", encoding="ascii") as f:
                counts.append(int(f.read().split()[3].split("/")[0]) - 1)
    except (OSError, IndexError, ValueError):
        return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0
    return max(0, min(counts))


def inference_threads(n_images):
    """Threads for predicting ``n_images``: 1 for a few faces, at most the idle cores otherwise.

    Splitting one small batch over threads gains little, and threads that
    wait for each other on busy cores make one face take tens of times
    longer (measured: 7 ms with one thread, 100-300 ms with two, at a load of
    8 on 2 cores). Large batches use torch's setting
    (``torch.set_num_threads``), capped by the cores that no other program is
    using (:func:`busy_cores`), and never fewer than one.
    """
    threads = torch.get_num_threads()
    if n_images <= SMALL_BATCH:
        return 1
    idle = (os.cpu_count() or 1) - busy_cores()
    return int(max(1, min(threads, idle)))


@contextlib.contextmanager
def torch_threads(n):
    """Run the block with ``n`` torch threads, then restore the setting.

    Parameters
    ----------
    n : int
        Torch's intra-op threads inside the block.

    Yields
    ------
    None
        The block runs with ``n`` threads.
    """
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != before:
            torch.set_num_threads(before)


def weights_version(module):
    """Changes whenever a parameter or buffer of ``module`` is replaced or changed in place."""
    return (id(module),) + tuple((id(t), t._version) for m in module.modules()
                                 for tensors in (m._parameters, m._buffers)
                                 for t in tensors.values() if t is not None)


class FastPredictor:
    """Probabilities from a folded, channels-last copy of a network, batch by batch.

    Parameters
    ----------
    module : torch.nn.Module
        The trained network (left untouched).
    device : torch.device
    autocast_dtype : torch.dtype or None
        bf16 autocast when set.
    nonlinearity : callable
        Logits to probabilities (skorch's ``predict_nonlinearity``).
    """

    def __init__(self, module, device, autocast_dtype, nonlinearity):
        self.version = weights_version(module)
        self.device = device
        self.autocast_dtype = autocast_dtype
        self.nonlinearity = nonlinearity
        self.network = self._inference_copy(module)

    def _inference_copy(self, module):
        """The copy of ``module`` that predicts: folded and channels-last on ``device``."""
        return fold_batch_norm(module).to(self.device, memory_format=torch.channels_last)

    def predict_proba(self, views, batch_size):
        """Mean probabilities over ``views``, ``(n, n_classes)`` float32.

        ``views`` are arrays ``(n, 1, h, w)`` float32 of the same images (one,
        or the test-time views); the threads are chosen once for all of them.
        On a CPU the network sees at most :data:`CPU_CHUNK` images at a time,
        whatever ``batch_size``: smaller passes stay in the caches.
        """
        with torch.inference_mode(), torch_threads(inference_threads(len(views[0]))):
            probabilities = [self._probabilities(images, batch_size) for images in views]
        return probabilities[0] if len(views) == 1 else np.mean(probabilities, axis=0)

    def _probabilities(self, images, batch_size):
        out = []
        if self.device.type == "cpu":
            batch_size = min(batch_size, CPU_CHUNK)
        autocast = (torch.autocast(self.device.type, dtype=self.autocast_dtype)
                    if self.autocast_dtype is not None else contextlib.nullcontext())
        for start in range(0, len(images), batch_size):
            x = torch.from_numpy(images[start:start + batch_size]).to(self.device)
            x = x.contiguous(memory_format=torch.channels_last)
            with autocast:
                logits = self.network(x)
            out.append(self.nonlinearity(logits.float()).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def cpu_has_vnni():
    """Whether this CPU multiplies int8 with VNNI instructions (no 16-bit saturation)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_vnni" in flags or "avx_vnni" in flags


def int8_qconfig_mapping(full_range=None):
    """PyTorch's x86 int8 settings, with activations over the full 8 bits on VNNI CPUs.

    The x86 default reduces activations to 7 bits so that CPUs without VNNI
    cannot saturate their 16-bit sums; with VNNI the 8th bit is free and keeps
    more predictions identical to float32 (measured on the shipped models:
    99.1-99.4% of PublicTest labels instead of 98.6-99.0%, at the same speed).
    """
    from torch.ao.quantization import QConfig, get_default_qconfig_mapping
    from torch.ao.quantization.observer import HistogramObserver
    from torch.ao.quantization.observer import default_per_channel_weight_observer as weights

    mapping = get_default_qconfig_mapping("x86")
    if full_range is None:
        full_range = cpu_has_vnni()
    if full_range:
        activation = HistogramObserver.with_args(reduce_range=False, quant_min=0, quant_max=255)
        mapping.set_global(QConfig(activation=activation, weight=weights))
    return mapping


def quantize_network(module, images, batch_size=128):
    """An int8 copy of ``module`` for x86 CPUs, calibrated on ``images`` ``(n, 1, h, w)``.

    PyTorch's post-training static quantization (FX graph mode, x86 backend):
    weights per channel, activations per tensor (8 bits on VNNI CPUs, 7
    elsewhere, :func:`int8_qconfig_mapping`), each range observed on the
    calibration images; convolution, batch norm and ReLU fuse into one int8 op.
    """
    import warnings

    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.backends.quantized.engine = "x86"
    images = torch.as_tensor(np.asarray(images, dtype=np.float32))
    with warnings.catch_warnings():  # PyTorch's own deprecation notes about its observers
        warnings.filterwarnings("ignore", category=UserWarning, module="torch.ao")
        prepared = prepare_fx(copy.deepcopy(module).cpu().eval(), int8_qconfig_mapping(),
                              example_inputs=(images[:1],))
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                prepared(images[start:start + batch_size])
        return convert_fx(prepared)


class Int8Predictor(FastPredictor):
    """:class:`FastPredictor` over an int8 copy of the network (CPU only)."""

    def __init__(self, module, calibration, nonlinearity):
        self.calibration = calibration
        super().__init__(module, torch.device("cpu"), None, nonlinearity)

    def _inference_copy(self, module):
        return quantize_network(module, self.calibration)

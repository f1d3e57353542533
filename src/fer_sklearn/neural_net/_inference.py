"""Fast prediction: a frozen copy of the network with batch norm folded into the convolutions."""

import contextlib
import copy
import os

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


def inference_threads(n_images):
    """Threads for predicting ``n_images``: 1 for a few faces or on a saturated machine.

    Splitting one small batch over threads gains little, and on a machine whose
    cores are busy, threads that wait for each other make one face take tens of
    times longer (measured: 7 ms with one thread, 100-300 ms with two, at a load
    of 8 on 2 cores). Large batches on a machine with idle cores keep torch's
    setting (``torch.set_num_threads``).
    """
    threads = torch.get_num_threads()
    if n_images <= SMALL_BATCH or os.getloadavg()[0] >= (os.cpu_count() or 1):
        return 1
    return threads


@contextlib.contextmanager
def torch_threads(n):
    """Run the block with ``n`` torch threads, then restore the setting."""
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
    return (id(module),) + tuple((id(t), t._version) for t in
                                 [*module.parameters(), *module.buffers()])


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
        self.network = fold_batch_norm(module).to(device, memory_format=torch.channels_last)

    def predict_proba(self, images, batch_size):
        """Probabilities of ``images`` ``(n, 1, h, w)`` float32, ``(n, n_classes)`` float32."""
        out = []
        with torch.inference_mode(), torch_threads(inference_threads(len(images))):
            for start in range(0, len(images), batch_size):
                x = torch.from_numpy(images[start:start + batch_size]).to(self.device)
                x = x.contiguous(memory_format=torch.channels_last)
                with torch.autocast(self.device.type, dtype=self.autocast_dtype or torch.bfloat16,
                                    enabled=self.autocast_dtype is not None):
                    logits = self.network(x)
                out.append(self.nonlinearity(logits.float()).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def quantize_network(module, images, batch_size=128):
    """An int8 copy of ``module`` for x86 CPUs, calibrated on ``images`` ``(n, 1, h, w)``.

    PyTorch's post-training static quantization (FX graph mode, x86 backend):
    weights per channel, activations per tensor, each range observed on the
    calibration images; convolution, batch norm and ReLU fuse into one int8 op.
    """
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.backends.quantized.engine = "x86"
    images = torch.as_tensor(np.asarray(images, dtype=np.float32))
    prepared = prepare_fx(copy.deepcopy(module).cpu().eval(), get_default_qconfig_mapping("x86"),
                          example_inputs=(images[:1],))
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            prepared(images[start:start + batch_size])
    return convert_fx(prepared)


class Int8Predictor(FastPredictor):
    """:class:`FastPredictor` over an int8 copy of the network (CPU only)."""

    def __init__(self, module, calibration, nonlinearity):
        self.version = weights_version(module)
        self.device = torch.device("cpu")
        self.autocast_dtype = None
        self.nonlinearity = nonlinearity
        self.calibration = calibration
        self.network = quantize_network(module, calibration)

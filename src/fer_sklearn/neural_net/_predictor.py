"""Fast prediction: a frozen, folded, channels-last copy of the network, batch by batch."""

import contextlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from ..utils import prediction_threads
from ._folding import fold_batch_norm

# images per forward pass on a CPU: 64 keep a VGG-style net's activations in the caches
# (measured on the shipped models: 1.2-1.55x the images/s of passes of 256)
CPU_CHUNK = 64


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

    precision = "32"

    def __init__(self, module, device, autocast_dtype, nonlinearity):
        self.version = weights_version(module)
        self.device = device
        self.autocast_dtype = autocast_dtype
        if autocast_dtype is not None:
            self.precision = "bf16"
        self.nonlinearity = nonlinearity
        self.network = self._inference_copy(module)

    def _inference_copy(self, module):
        """The copy of ``module`` that predicts: folded and channels-last on ``device``."""
        return fold_batch_norm(module).to(self.device, memory_format=torch.channels_last)

    def predict_proba(self, views, batch_size):
        """Mean probabilities over ``views``, ``(n, n_classes)`` float32.

        ``views`` are arrays ``(n, 1, h, w)`` float32 of the same images (one,
        or the test-time views); the threads follow the package's thread rule
        (:func:`fer_sklearn.utils.prediction_threads`), once for all of them.
        On a CPU the network sees at most :data:`CPU_CHUNK` images at a time,
        whatever ``batch_size``: smaller passes stay in the caches; and with
        several threads, each thread takes whole chunks in turn with one torch
        thread of its own, so a thread that the OS pauses holds no other back
        (on a busy 2-core machine: 3.9-5.8x the images/s of two torch threads
        sharing each pass, which wait for each other at every layer;
        ``benchmarks/bench_threads.py``).
        """
        threads = prediction_threads(len(views[0]), torch.get_num_threads())
        if self.device.type == "cpu":
            batch_size = min(batch_size, CPU_CHUNK)
        chunks = [(images, start) for images in views
                  for start in range(0, len(images), batch_size)]
        if threads == 1 or self.device.type != "cpu":
            with torch_threads(1 if self.device.type == "cpu" else torch.get_num_threads()):
                out = [self._chunk(images[start:start + batch_size]) for images, start in chunks]
        else:
            before = torch.get_num_threads()
            with ThreadPoolExecutor(threads, initializer=torch.set_num_threads,
                                    initargs=(1,)) as pool:
                out = list(pool.map(lambda c: self._chunk(c[0][c[1]:c[1] + batch_size]), chunks))
            if torch.get_num_threads() != before:  # a build whose thread count is global
                torch.set_num_threads(before)
        if not out:
            return np.zeros((0, 0), np.float32)
        per_view = len(chunks) // len(views)
        probabilities = [np.concatenate(out[i:i + per_view]) for i in range(0, len(out), per_view)]
        return probabilities[0] if len(views) == 1 else np.mean(probabilities, axis=0)

    def _chunk(self, images):
        """Probabilities of one chunk of images, ``(n, n_classes)`` float32."""
        autocast = (torch.autocast(self.device.type, dtype=self.autocast_dtype)
                    if self.autocast_dtype is not None else contextlib.nullcontext())
        with torch.inference_mode(), autocast:
            x = torch.from_numpy(images).to(self.device)
            logits = self.network(x.contiguous(memory_format=torch.channels_last))
        return self.nonlinearity(logits.float()).cpu().numpy()

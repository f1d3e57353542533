"""Class activation maps of the package's CNNs: LayerCAM on the early blocks, Grad-CAM on the last.

Both weigh a block's activations by the gradient of the target class's log-probability:
Grad-CAM by the gradient averaged over each channel (one weight per channel, Selvaraju et
al., 2017), LayerCAM by the positive gradient at each location (Jiang et al., 2021), which
stays sharp on the early, high-resolution blocks. LayerCAM's maps of the first half of the
blocks (the first two of four: 48x48 and 24x24 on 48x48 faces), each scaled to a maximum of
1 and upsampled to the network's input, are averaged. The later blocks' coarse maps are
much the same for a network with random weights (they failed the randomization check of
Adebayo et al., 2018, with the ensemble) and did not make the maps more faithful on FER2013
(``benchmarks/bench_saliency.py`` compares method ``layercam_all``, with every block). The
log-probability rather than the logit: what raises the other classes counts against the
target, so that the maps of two classes differ more. The gradients run in float32 on a
folded copy of the network (:func:`~fer_sklearn.neural_net.fold_batch_norm`, the exact
eval-mode network), whatever the classifier's ``precision``.
"""

import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..neural_net import EmotionCNN, EnsembleCNN, fold_batch_norm, resolve_device, torch_threads
from ..utils import prediction_threads

GRADIENT_METHODS = ("layercam", "gradcam")
# faces per forward and backward pass on a CPU, as the classifier's own predictions
# (neural_net's FastPredictor): small passes keep a VGG-style net's activations in the caches
_CPU_CHUNK = 64
# each network's float32 copy for gradients, dropped with the network
_COPIES = weakref.WeakKeyDictionary()


def is_explainable_network(module):
    """Whether the gradient methods know the blocks of ``module`` (an EmotionCNN or ensemble)."""
    if isinstance(module, EnsembleCNN):
        return all(is_explainable_network(member) for member in module.members)
    return isinstance(module, EmotionCNN)


def _version(module):
    """Changes whenever a parameter or buffer of ``module`` is replaced or changed in place."""
    return tuple((id(t), t._version) for t in (*module.parameters(), *module.buffers()))


def gradient_copy(module, device):
    """The float32, batch-norm-folded copy of ``module`` on ``device`` that gradients run on.

    Its parameters need no gradient (only the activations' gradients are computed, not the
    weights'), and no layer works in place, so that each block's activation is kept for
    its gradient. Cached until the weights change.
    """
    key = (_version(module), str(device))
    cached = _COPIES.get(module)
    if cached is not None and cached[0] == key:
        return cached[1]
    network = fold_batch_norm(module).float().to(device, memory_format=torch.channels_last)
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    for layer in network.modules():
        if hasattr(layer, "inplace"):
            layer.inplace = False
    _COPIES[module] = (key, network)
    return network


def _forward(network, x, activations):
    """The logits of ``network``, appending each member's block activations to ``activations``.

    A block's activation is its input to max pooling (the last convolution's output at the
    block's full resolution). Written out rather than hooked, so that threads can share the
    network.
    """
    if isinstance(network, EnsembleCNN):
        logits = [_forward(member, x, activations) for member in network.members]
        return sum(logits) / len(logits)
    blocks = []
    h = x
    for block in network.features:
        kept = None
        for layer in block:
            if isinstance(layer, nn.MaxPool2d):
                kept = h
            h = layer(h)
        blocks.append(h if kept is None else kept)
    activations.append(blocks)
    return network.forward_head(network.pool(h))


def _scaled(maps):
    """Each map divided by its maximum (maps of zeros stay zero)."""
    top = maps.flatten(1).amax(dim=1).clamp_min(1e-12)
    return maps / top[:, None, None]


def _upsampled(maps, size):
    if maps.shape[1:] == size:
        return maps
    return F.interpolate(maps[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]


def _cam_chunk(network, images, targets, method, device):
    """Maps ``(n, h, w)`` of one chunk of network inputs ``(n, 1, h, w)`` float32."""
    x = torch.from_numpy(images).to(device).contiguous(memory_format=torch.channels_last)
    size = tuple(images.shape[2:])
    with torch.enable_grad():
        x.requires_grad_(True)  # builds the graph; only the activations' gradients are taken
        members = []
        logits = _forward(network, x, members)
        log_p = torch.log_softmax(logits.float(), dim=1)
        if targets is None:  # the network's own prediction, from this very pass
            target = logits.argmax(dim=1, keepdim=True)
        else:
            target = torch.as_tensor(targets, device=device)[:, None]
        used = [blocks[-1:] if method == "gradcam" else blocks if method == "layercam_all"
                else blocks[:(len(blocks) + 1) // 2] for blocks in members]
        flat = [a for blocks in used for a in blocks]
        grads = torch.autograd.grad(log_p.gather(1, target).sum(), flat)
    maps, k = [], 0
    for blocks in used:
        member_maps = []
        for a in blocks:
            g = grads[k]
            k += 1
            if method == "gradcam":
                weights = g.mean(dim=(2, 3), keepdim=True)
            else:
                weights = F.relu(g)
            member_maps.append(_scaled(_upsampled(F.relu((weights * a).sum(dim=1)), size)))
        maps.append(sum(member_maps) / len(member_maps))
    return (sum(maps) / len(maps)).detach().float().cpu().numpy()


def cam_maps(module, images, targets, *, method="layercam", device="cpu"):
    """Class activation maps of network inputs, one per image, at their size.

    Parameters
    ----------
    module : torch.nn.Module
        An :class:`~fer_sklearn.EmotionCNN` or an :class:`~fer_sklearn.EnsembleCNN` of them.
    images : ndarray of float32, shape (n, 1, h, w)
        What the network takes (preprocessed).
    targets : ndarray of int of shape (n,), or None
        The class (logit index) of each image; None: the class the float32 network
        predicts.
    method : {"layercam", "gradcam", "layercam_all"}, default="layercam"
        See the module's docstring; ``"layercam_all"``, LayerCAM with the last
        block too, is there for the benchmark that compares it.
    device : str or torch.device, default="cpu"
        Where the gradients run.

    Returns
    -------
    maps : ndarray of float32, shape (n, h, w)
        Non-negative, each at most 1.
    """
    device = torch.device(resolve_device(device))
    network = gradient_copy(module, device)
    targets = None if targets is None else np.asarray(targets, dtype=np.int64)
    chunk = _CPU_CHUNK if device.type == "cpu" else 256
    starts = range(0, len(images), chunk)

    def run(start):
        part = None if targets is None else targets[start:start + chunk]
        return _cam_chunk(network, images[start:start + chunk], part, method, device)

    threads = prediction_threads(len(images), torch.get_num_threads())
    if device.type != "cpu" or threads == 1 or len(starts) == 1:
        with torch_threads(1 if device.type == "cpu" else torch.get_num_threads()):
            out = [run(start) for start in starts]
    else:
        # as the classifier predicts: whole chunks per thread, one torch thread each, so
        # that a thread the OS pauses holds no other back
        before = torch.get_num_threads()
        with ThreadPoolExecutor(threads, initializer=torch.set_num_threads,
                                initargs=(1,)) as pool:
            out = list(pool.map(run, starts))
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
    if not out:
        return np.zeros((0, *images.shape[2:]), np.float32)
    return np.concatenate(out)

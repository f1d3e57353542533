"""The GPU run's toolbox: throughput, FLOPs, the epoch plan, and the packed files it returns.

:func:`training_flops` counts one training step's arithmetic with torch's
``FlopCounterMode``; :func:`time_training_steps` times bare training steps
under one set of levers (batch size, bf16 autocast, channels-last,
``torch.compile``, augmentation per batch or per epoch, a host sync per step
or one at the end); :func:`speed_levers` turns them on one after another and
reports what each gave; :func:`plan_epochs` fits the epochs to the measured rates.
:class:`FastTrainingClassifier` is the recipes' :class:`~fer_sklearn.EmotionClassifier`
with two of those levers: the epoch's augmentation generated in one call and a
compiled training step. A GPU run may return only a few files of limited size:
:func:`pack_networks` writes networks into as few fp16 safetensors files as the
limit allows, :func:`read_packed` gives back their classifiers (no pickle either way).
Used by ``train_flagship.py``, ``export_run.py`` and ``count_flops.py``; tested through
their commands.
"""

import copy
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file
from torch.utils.flop_counter import FlopCounterMode

from fer_sklearn.neural_net import DeviceBatches, EmotionClassifier, EmotionCNN
from fer_sklearn.utils import atomic_write

SPEED_LEVERS = (
    ("baseline: batch 128, fp32, eager, augment per batch, host sync per step", {}),
    ("+ no host sync per step (loss read once)", dict(sync_every_step=False)),
    ("+ large batch", dict(large_batch=True)),
    ("+ bf16 autocast", dict(bf16=True)),
    ("+ channels-last", dict(channels_last=True)),
    ("+ the epoch's augmentation in one call", dict(epoch_augment=True)),
    ("+ torch.compile", dict(compiled=True)),
)
"""The levers :func:`speed_levers` turns on in turn: names, :func:`time_training_steps` settings."""


def training_flops(module, image_shape=(48, 48), batch_size=2):
    """Count one training step's FLOPs per image (forward and backward) with ``FlopCounterMode``.

    Parameters
    ----------
    module : torch.nn.Module
        The network (a copy is counted, so its batch-norm statistics stay as they are).
    image_shape : tuple of int, default=(48, 48)
        ``(height, width)`` of its one-channel inputs.
    batch_size : int, default=2
        Images of the counted step.

    Returns
    -------
    flops : float
        Floating-point operations per training image (a multiply-add counts 2).
    """
    net = copy.deepcopy(module).train()
    device = next(net.parameters()).device
    x = torch.randn(batch_size, 1, *image_shape, device=device)
    y = torch.zeros(batch_size, dtype=torch.long, device=device)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(net(x), y).backward()
    return counter.get_total_flops() / batch_size


def time_training_steps(module, images, labels, *, batch_size=128, steps=20, warmup=3,
                        bf16=False, channels_last=False, compiled=False, augmenter=None,
                        epoch_augment=False, sync_every_step=True):
    """Time bare training steps (SGD, cross-entropy) of a copy of ``module``: images per second.

    Parameters
    ----------
    module : torch.nn.Module
        The network; a copy trains, on the device of ``images``.
    images, labels : torch.Tensor
        Float images ``(n, 1, h, w)`` and class codes ``(n,)``, on the device.
    batch_size, steps, warmup : int
        Images per step, timed steps, and untimed steps before them (where
        ``torch.compile`` compiles).
    bf16, channels_last, compiled : bool
        Use bf16 autocast, the channels-last layout, ``torch.compile``.
    augmenter : callable or None
        Augmentation of a batch (:class:`~fer_sklearn.ImageAugmenter`).
    epoch_augment : bool
        Augment all the steps' images in one call instead of batch by batch.
    sync_every_step : bool
        Read the loss on the host after every step (as ``loss.item()`` does).

    Returns
    -------
    result : dict
        ``images_per_s`` and ``warmup_s`` (the warm-up steps' seconds,
        compilation included).
    """
    layout = torch.channels_last if channels_last else torch.contiguous_format
    net = copy.deepcopy(module).to(images.device, memory_format=layout).train()
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9, nesterov=True)
    forward = torch.compile(net) if compiled else net

    def run(count):
        index = torch.randint(len(images), (count * batch_size,), device=images.device)
        x_all = images[index]
        if augmenter is not None and epoch_augment:
            x_all = augmenter(x_all)
        losses = []
        for i in range(count):
            x = x_all[i * batch_size:(i + 1) * batch_size]
            if augmenter is not None and not epoch_augment:
                x = augmenter(x)
            with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = F.cross_entropy(forward(x.contiguous(memory_format=layout)).float(),
                                       labels[index[i * batch_size:(i + 1) * batch_size]])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item() if sync_every_step else loss.detach())
        return float(torch.as_tensor(losses).sum() if sync_every_step
                     else torch.stack(losses).sum().item())

    start = time.perf_counter()
    run(warmup)
    warmup_s = time.perf_counter() - start
    start = time.perf_counter()
    run(steps)
    return {"images_per_s": steps * batch_size / (time.perf_counter() - start),
            "warmup_s": warmup_s}


def speed_levers(module, images, labels, augmenter, *, small_batch=128, large_batch=1024,
                 steps=20, levers=SPEED_LEVERS, log=print):
    """Turn the levers of a GPU run on one after another and measure what each gave.

    Parameters
    ----------
    module : torch.nn.Module
        The network to time.
    images, labels : torch.Tensor
        Training images and codes on the device (see :func:`time_training_steps`).
    augmenter : callable
        Augmentation of a batch.
    small_batch, large_batch : int
        The batch of the baseline and the one of the ``large_batch`` lever.
    steps : int
        Timed steps per lever.
    levers : sequence of (str, dict), default=SPEED_LEVERS
        Each lever's name and the :func:`time_training_steps` settings it adds.
    log : callable or None, default=print
        Called with a line per lever.

    Returns
    -------
    rows : list of dict
        Per lever: ``lever``, ``images_per_s``, ``tflops`` (achieved TFLOP/s),
        ``gain`` (over the row before), ``warmup_s``, and ``error`` where the
        lever failed (then it is left off for the rows after it).
    """
    flops = training_flops(module, tuple(images.shape[-2:]))
    settings, rows, previous = dict(sync_every_step=True), [], None
    for name, change in levers:
        trial = {**settings, **change}
        batch = large_batch if trial.pop("large_batch", False) else small_batch
        try:
            result = time_training_steps(module, images, labels, batch_size=batch, steps=steps,
                                         augmenter=augmenter, **trial)
        except Exception as exc:  # a lever the card or torch build lacks: measured as failed
            rows.append({"lever": name, "error": f"{type(exc).__name__}: {exc}"[:300]})
            if log:
                log(f"  {name}: failed ({rows[-1]['error'][:120]}); left off")
            continue
        settings = {**settings, **change}
        rate = result["images_per_s"]
        rows.append({"lever": name, "batch_size": batch, "images_per_s": rate,
                     "tflops": rate * flops / 1e12, "warmup_s": result["warmup_s"],
                     "gain": rate / previous if previous else 1.0})
        previous = rate
        if log:
            log(f"  {name}: {rate:,.0f} images/s, {rate * flops / 1e12:.2f} TFLOP/s "
                f"(x{rows[-1]['gain']:.2f}; warm-up {result['warmup_s']:.1f} s)")
    return rows


def plan_epochs(budget, seconds_per_epoch, fixed_seconds, epochs, min_epochs=1):
    """The networks to train one after another and their epochs, to end within ``budget``.

    Epochs are cut first (all networks train the same number); networks are
    left out, from the last, only when fewer than ``min_epochs`` would fit.

    Parameters
    ----------
    budget : float
        Seconds for all the networks.
    seconds_per_epoch, fixed_seconds : dict of str to float
        Each network's measured seconds an epoch, and once (compiling).
    epochs, min_epochs : int
        The epochs wanted, and the fewest worth training.

    Returns
    -------
    names, epochs : list of str, int
        The networks kept, in order, and their epochs (0 where none fits).
    """
    names = list(seconds_per_epoch)
    while True:
        spare = budget - sum(fixed_seconds.get(n, 0.0) for n in names)
        fits = max(0, int(spare / sum(seconds_per_epoch[n] for n in names)))
        if fits >= min(epochs, min_epochs) or len(names) == 1:
            return names, min(epochs, fits)
        names.pop()


class FastTrainingClassifier(EmotionClassifier):
    """An :class:`~fer_sklearn.EmotionClassifier` whose epoch's augmentation is one call, its step
    compiled.

    Parameters
    ----------
    module : type or torch.nn.Module, default=EmotionCNN
        The network.
    epoch_augment : bool, default=True
        Augment the whole epoch's training images in one call on the device
        (``DeviceBatches``' ``epoch_transform``) instead of batch by batch.
    compile_train : bool, default=False
        Run the training steps through ``torch.compile`` of the network
        (validation and prediction stay eager).
    **kwargs
        :class:`~fer_sklearn.EmotionClassifier` parameters.
    """

    _parameter_constraints = {**EmotionClassifier._parameter_constraints,
                              "epoch_augment": ["boolean"], "compile_train": ["boolean"]}
    _training_only = ("epoch_augment", "compile_train")

    def __init__(self, module=EmotionCNN, *, epoch_augment=True, compile_train=False, **kwargs):
        super().__init__(module, **kwargs)
        self.epoch_augment = epoch_augment
        self.compile_train = compile_train

    def get_iterator(self, dataset, training=False):
        """Training batches augmented an epoch at a time where the data sit on the device."""
        batches = super().get_iterator(dataset, training=training)
        if not training:  # skorch asks for the validation batches after the training ones
            return batches
        self._whole_epoch = (self.epoch_augment and self.augmenter_ is not None
                             and isinstance(getattr(batches, "X", None), torch.Tensor))
        if not self._whole_epoch:
            return batches
        return DeviceBatches(batches.X, batches.y, self.batch_size, batches.X.device,
                             shuffle=batches.shuffle, epoch_transform=self.augmenter_)

    def _augment_batch(self, images):
        """A batch of the epoch augmented in one call is augmented already."""
        if getattr(self, "_whole_epoch", False):
            return images
        return super()._augment_batch(images)

    def infer(self, x, **fit_params):
        """The network's output; in training with ``compile_train``, from the compiled network."""
        if not (self.compile_train and self.module_.training):
            return super().infer(x, **fit_params)
        compiled = getattr(self, "_compiled", None)
        if compiled is None or compiled[0] is not self.module_:
            self._compiled = compiled = (self.module_, torch.compile(self.module_))
        module, self.module_ = self.module_, compiled[1]
        try:
            return super().infer(x, **fit_params)
        finally:
            self.module_ = module

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_compiled", None)
        return state


PACK_KEY = "fer_sklearn_pack"


def _state(clf):
    return {k: (v.half() if v.is_floating_point() else v).detach().cpu().contiguous()
            for k, v in clf.module_.state_dict().items()}


def pack_groups(sizes, max_bytes=15 * 2**20):
    """The networks of each file :func:`pack_networks` writes, in order.

    Parameters
    ----------
    sizes : dict of str to int
        The bytes of each network's weights, by name; in order.
    max_bytes : int, default=15 MiB
        Largest file; a network larger than this gets a file of its own.

    Returns
    -------
    groups : list of list of str
        The names in each file.
    """
    groups, size = [[]], 0
    for name, n_bytes in sizes.items():
        if groups[-1] and size + n_bytes > max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(name)
        size += n_bytes
    return groups


def pack_networks(classifiers, stem, *, info=None, max_bytes=15 * 2**20):
    """Write fitted classifiers into ``<stem>-<i>.safetensors`` files of at most ``max_bytes``.

    Parameters
    ----------
    classifiers : dict of str to fitted EmotionClassifier
        The networks (:class:`~fer_sklearn.EmotionCNN`), by name; in that order.
    stem : path
        The files' path without the ``-<i>.safetensors`` ending.
    info : dict of str to dict, default=None
        JSON-able settings and scores of each network, kept beside its weights.
    max_bytes : int, default=15 MiB
        Largest file; a network larger than this gets a file of its own.

    Returns
    -------
    paths : list of Path
        The files written.
    """
    sizes = {name: sum(v.numel() * v.element_size() for v in _state(clf).values())
             for name, clf in classifiers.items()}
    paths = []
    for i, names in enumerate(pack_groups(sizes, max_bytes), 1):
        tensors, header = {}, {}
        for name in names:
            clf = classifiers[name]
            tensors.update({f"{name}/{k}": v for k, v in _state(clf).items()})
            module = {k: v for k, v in clf.module_.config.items() if k != "act_layer"}
            header[name] = {"module": module, "classes": np.asarray(clf.classes_).tolist(),
                            "image_shape": list(clf.image_shape_), **(info or {}).get(name, {})}
        path = Path(f"{stem}-{i}.safetensors")
        with atomic_write(path) as partial:
            save_file(tensors, partial, metadata={PACK_KEY: json.dumps(header)})
        paths.append(path)
    return paths


def read_packed(paths, device="cpu"):
    """The networks of :func:`pack_networks` files, as fitted float32 classifiers.

    Parameters
    ----------
    paths : list of path
        Files written by :func:`pack_networks`.
    device : str, default="cpu"
        Where the classifiers run.

    Returns
    -------
    networks : dict of str to (EmotionClassifier, dict)
        Each network's classifier and its header entry (settings and scores).
    """
    networks = {}
    for path in paths:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            if PACK_KEY not in metadata:
                raise ValueError(f"{path} is not a file of pack_networks (no {PACK_KEY} header)")
            header = json.loads(metadata[PACK_KEY])
            for name, entry in header.items():
                state = {k.split("/", 1)[1]: f.get_tensor(k) for k in f.keys()
                         if k.startswith(name + "/")}
                clf = EmotionClassifier(
                    module=EmotionCNN, classes=np.asarray(entry["classes"]), device=device,
                    **{f"module__{k}": v for k, v in entry["module"].items()})
                clf.initialize_fitted(tuple(entry["image_shape"]))
                clf.module_.load_state_dict({k: v.float() if v.is_floating_point() else v
                                             for k, v in state.items()})
                networks[name] = (clf, entry)
    return networks

"""TrainingClassifier: the EmotionClassifier of the recipes, with a loop that does not wait on the host."""

from numbers import Real

import numpy as np
import torch
from skorch.dataset import get_len, unpack_data
from skorch.utils import to_device
from sklearn.utils._param_validation import Interval
from torch import nn

from ..neural_net import EmotionClassifier, EmotionCNN


class TrainingClassifier(EmotionClassifier):
    """An :class:`~fer_sklearn.EmotionClassifier` with mixup/cutmix and a loss read once an epoch.

    skorch reads each batch's loss with ``loss.item()``, a wait for the device
    on every step that leaves a GPU idle; here the losses stay on the device
    and are read together at the end of the epoch (one wait an epoch), then
    recorded in the history exactly where skorch records them. Mixup and
    cutmix mix each augmented training batch with a shuffled copy of itself.
    :func:`~fer_sklearn.save_model` writes it as the plain classifier it is
    for prediction (:meth:`to_classifier`).

    Parameters
    ----------
    module : type or torch.nn.Module, default=EmotionCNN
        The network.
    mixup : float, default=0.0
        Alpha of the Beta distribution of mixup's mixing weight; 0 turns it off.
    cutmix : float, default=0.0
        Alpha of cutmix (a box of another face pasted in); 0 turns it off.
        With both on, each batch draws one of the two.
    **kwargs
        :class:`~fer_sklearn.EmotionClassifier` parameters.
    """

    _parameter_constraints = {
        **EmotionClassifier._parameter_constraints,
        "mixup": [Interval(Real, 0, None, closed="left")],
        "cutmix": [Interval(Real, 0, None, closed="left")],
    }
    _training_only = ("mixup", "cutmix")

    def __init__(self, module=EmotionCNN, *, mixup=0.0, cutmix=0.0, **kwargs):
        super().__init__(module, **kwargs)
        self.mixup = mixup
        self.cutmix = cutmix

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run skorch's epoch, with the batches' losses read from the device once, at its end."""
        if iterator is None:
            return
        losses = []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            size = get_len(batch[0]) if isinstance(batch, (tuple, list)) else get_len(batch)
            self.history.record_batch(prefix + "_batch_size", size)
            self.notify("on_batch_end", batch=batch, training=training, **step)
        values = torch.stack(losses).float().cpu().tolist() if losses else []
        mine = [b for b in self.history[-1]["batches"] if prefix + "_batch_size" in b]
        for entry, value in zip(mine[len(mine) - len(values):], values):
            entry[prefix + "_loss"] = value
        self.history.record(prefix + "_batch_count", len(values))

    def train_step_single(self, batch, **fit_params):
        """One step; with mixup or cutmix, on the batch mixed with a shuffled copy of itself."""
        Xi, yi = unpack_data(batch)
        if not self._steps_here(yi):
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        device = next(self.module_.parameters()).device
        Xi, yi = to_device(Xi, device), to_device(yi, device)
        if self.augmenter_ is not None:
            Xi = self.augmenter_(Xi)
        other, lam = None, 1.0
        if self.mixup or self.cutmix:
            Xi, other, lam = mix_batch(Xi, self.mixup, self.cutmix)
        targets, other_targets = self._step_targets(Xi, yi, other)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, targets, X=Xi, training=True)
        if other is not None:
            loss = lam * loss + (1 - lam) * self.get_loss(y_pred, other_targets, X=Xi,
                                                          training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def _steps_here(self, yi):
        """Whether :meth:`train_step_single` runs the step itself (mixing needs label codes)."""
        return bool(self.mixup or self.cutmix) and getattr(yi, "ndim", 1) == 1

    def _step_targets(self, Xi, yi, other):
        """The targets of the (augmented, mixed) batch ``Xi``, and of the faces mixed into it."""
        return yi, None if other is None else yi[other]

    def to_classifier(self):
        """Return the fitted network as a plain :class:`~fer_sklearn.EmotionClassifier`.

        That is what :func:`~fer_sklearn.save_model` writes: the training-only parameters
        dropped, a copy of the weights.

        Returns
        -------
        clf : EmotionClassifier
            A fitted classifier of its own.
        """
        params = {k: v for k, v in self.get_params(deep=False).items()
                  if k not in self._training_only}
        if params.get("criterion") is not nn.CrossEntropyLoss and issubclass(
                params.get("criterion"), nn.CrossEntropyLoss):
            params["criterion"] = nn.CrossEntropyLoss
            for key in [k for k in params if k.startswith("criterion__")]:
                if key not in ("criterion__label_smoothing", "criterion__weight"):
                    del params[key]
        clf = EmotionClassifier(**params)
        if not getattr(self, "initialized_", False):
            return clf
        for name in ("classes_inferred_", "image_shape_", "n_features_in_", "class_weight_",
                     "int8_calibration_"):
            if hasattr(self, name):
                setattr(clf, name, getattr(self, name))
        clf.augmenter_, clf._split_seed = None, None
        clf.initialize()
        clf.module_.load_state_dict(self.module_.state_dict())
        clf.module_.train(self.module_.training)
        clf.history_ = self.history_
        return clf


def mix_batch(images, mixup, cutmix, rng=np.random):
    """Mix a batch of images with a shuffled copy of itself (mixup, or cutmix's pasted box).

    The mixing weight is drawn on the host (no wait for the device); with
    cutmix, ``lam`` is the share of the image left uncovered by the box.

    Parameters
    ----------
    images : Tensor of shape (n, channels, height, width)
        The batch.
    mixup, cutmix : float
        The Beta distributions' parameters (0: off); with both on, each batch
        takes one of the two at random.
    rng : numpy.random.RandomState or module, default=numpy.random
        Where the mixing weight is drawn.

    Returns
    -------
    mixed : Tensor
        The mixed images, shaped as ``images``.
    other : Tensor of int
        The index of the image each was mixed with.
    lam : float
        The share of the first image.
    """
    n, _, h, w = images.shape
    other = torch.randperm(n, device=images.device)
    use_cutmix = cutmix > 0 and (mixup <= 0 or rng.rand() < 0.5)
    lam = float(rng.beta(cutmix, cutmix) if use_cutmix else rng.beta(mixup, mixup))
    if not use_cutmix:
        return lam * images + (1 - lam) * images[other], other, lam
    bh, bw = int(round(h * np.sqrt(1 - lam))), int(round(w * np.sqrt(1 - lam)))
    top, left = rng.randint(0, h - bh + 1), rng.randint(0, w - bw + 1)
    mixed = images.clone()
    mixed[:, :, top:top + bh, left:left + bw] = images[other, :, top:top + bh, left:left + bw]
    return mixed, other, 1 - bh * bw / (h * w)

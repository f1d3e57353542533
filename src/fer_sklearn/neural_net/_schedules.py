"""Learning-rate schedules and the training callbacks built from the classifier's parameters."""

import math

from skorch.callbacks import Callback, EarlyStopping, EpochScoring, LRScheduler
from torch.optim.lr_scheduler import ReduceLROnPlateau

LR_SCHEDULES = ("plateau", "cosine", None)


class WarmupCosineLR(Callback):
    """Set the learning rate each epoch: linear warm-up, then cosine decay to ``floor``.

    The rate is a function of the epoch number in the net's history alone, so
    a training resumed from a checkpoint (skorch's ``LoadInitState``) carries
    on along the same curve. The rate is recorded in the history as ``lr``.

    Parameters
    ----------
    warmup_epochs : int
        Epochs of linear warm-up from ``1 / (warmup_epochs + 1)`` to 1.
    total_epochs : int
        Epoch at which the cosine reaches ``floor``.
    floor : float, default=0.01
        The final factor.
    """

    def __init__(self, warmup_epochs, total_epochs, floor=0.01):
        self.warmup_epochs = warmup_epochs
        self.total_epochs = total_epochs
        self.floor = floor

    def on_epoch_begin(self, net, **kwargs):
        lr = net.lr * self.factor(len(net.history) - 1)
        for group in net.optimizer_.param_groups:
            group["lr"] = lr
        net.history.record("lr", lr)

    def factor(self, epoch):
        """The learning-rate factor of a 0-based epoch."""
        if epoch < self.warmup_epochs:
            return (epoch + 1) / (self.warmup_epochs + 1)
        span = max(1, self.total_epochs - self.warmup_epochs)
        progress = min(1.0, (epoch - self.warmup_epochs) / span)
        return self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * progress))


def encoded_accuracy(net, X, y):
    """Accuracy of ``net`` on a skorch data set whose targets are class codes.

    Targets of more than one column (a distilled student's code + teacher rows)
    are scored on their first column.
    """
    y = y[:, 0] if getattr(y, "ndim", 1) == 2 else y
    y_pred = net.predict_proba(X).argmax(axis=1)
    return float((y_pred == y).mean())


def training_callbacks(net, monitor):
    """The default callbacks of :class:`EmotionClassifier` for its parameters.

    Parameters
    ----------
    net : EmotionClassifier
        Its ``early_stopping``, ``patience``, ``lr_schedule``, ``lr_patience``,
        ``lr_factor``, ``warmup_epochs`` and ``max_epochs`` are read.
    monitor : {"valid_loss", "train_loss"}
        The score that early stopping and the plateau schedule watch.

    Returns
    -------
    callbacks : list of (name, callback)
    """
    callbacks = [
        ("train_acc", EpochScoring(encoded_accuracy, name="train_acc", lower_is_better=False,
                                   on_train=True, use_caching=True)),
    ]
    if monitor == "valid_loss":
        callbacks.append(("valid_acc", EpochScoring(encoded_accuracy, name="valid_acc",
                                                    lower_is_better=False, use_caching=True)))
    if net.lr_schedule == "plateau":
        callbacks.append(("lr_scheduler", LRScheduler(
            policy=ReduceLROnPlateau, monitor=monitor, mode="min", event_name="lr",
            factor=net.lr_factor, patience=net.lr_patience)))
    elif net.lr_schedule == "cosine":
        callbacks.append(("lr_scheduler", WarmupCosineLR(net.warmup_epochs, net.max_epochs)))
    if net.early_stopping:
        callbacks.append(("early_stopping", EarlyStopping(
            monitor=monitor, patience=net.patience, load_best=True, sink=_quiet_unless_verbose(net))))
    return callbacks


class _quiet_unless_verbose:
    """A picklable print sink that is silent when the net is not verbose."""

    def __init__(self, net):
        self.verbose = net.verbose

    def __call__(self, *args, **kwargs):
        if self.verbose:
            print(*args, **kwargs)

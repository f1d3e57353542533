"""Learning-rate schedules and the training callbacks built from the classifier's parameters."""

import math
import time

from skorch.callbacks import Callback, EarlyStopping, EpochScoring, LRScheduler
from torch.optim.lr_scheduler import ReduceLROnPlateau


class WarmupCosine(Callback):
    """Set the learning rate before every training batch: linear warm-up, then cosine to ``floor``.

    A callback of the shape of skorch's ``LRScheduler(step_every="batch")``:
    the rate is a function of the training's progress alone, the steps done so
    far (counted from the history, so a resumed run stays on the curve) out of
    ``max_epochs`` epochs, or, with ``budget``, the seconds trained so far out
    of ``budget`` (a run that must end on time). Recorded as ``lr`` each epoch.
    :class:`~fer_sklearn.EmotionClassifier`'s ``lr_schedule="cosine"`` is this
    callback, its warm-up ``warmup_epochs`` out of ``max_epochs`` and its floor 1%.

    Parameters
    ----------
    warmup : float, default=0.03
        Share of the training spent warming up.
    floor : float, default=0.0
        The last factor of the peak rate ``net.lr``.
    budget : float or None, default=None
        Seconds of training the curve spans instead of ``max_epochs`` epochs
        (pair it with :class:`TimeBudget`).
    """

    def __init__(self, warmup=0.03, floor=0.0, budget=None):
        self.warmup = warmup
        self.floor = floor
        self.budget = budget

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        """Count the steps and seconds of the finished epochs."""
        done = net.history[:-1]
        self.steps_done_ = sum(epoch.get("train_batch_count", 0) for epoch in done)
        self.seconds_done_ = sum(epoch.get("dur", 0.0) for epoch in done)
        per_epoch = -(-len(dataset_train) // net.batch_size) if dataset_train is not None else 1
        self.total_steps_ = max(1, per_epoch * net.max_epochs)
        self.epoch_steps_ = 0
        self.started_ = time.perf_counter()
        net.history.record("lr", net.lr * self.factor(self._progress()))

    def _progress(self):
        if self.budget:
            return (self.seconds_done_ + time.perf_counter() - self.started_) / self.budget
        return (self.steps_done_ + self.epoch_steps_) / self.total_steps_

    def on_batch_begin(self, net, training=False, **kwargs):
        """Set the rate of this step."""
        if not training:
            return
        lr = net.lr * self.factor(self._progress())
        for group in net.optimizer_.param_groups:
            group["lr"] = lr
        self.epoch_steps_ += 1

    def factor(self, progress):
        """The factor of the peak rate at ``progress`` of the training.

        Parameters
        ----------
        progress : float
            The share of the training done, 0 to 1 (steps, or seconds of ``budget``).

        Returns
        -------
        factor : float
            Of ``net.lr``: rising to 1 over ``warmup``, then along a cosine to ``floor``.
        """
        if progress < self.warmup:
            return (progress + 1e-3) / (self.warmup + 1e-3)
        span = max(1e-9, 1 - self.warmup)
        done = min(1.0, (progress - self.warmup) / span)
        return self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * done))


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
        callbacks.append(("lr_scheduler", WarmupCosine(warmup=net.warmup_epochs / net.max_epochs,
                                                       floor=0.01)))
    if net.early_stopping:
        callbacks.append(("early_stopping", EarlyStopping(
            monitor=monitor, patience=net.patience, load_best=True,
            sink=_quiet_unless_verbose(net))))
    return callbacks


class _quiet_unless_verbose:
    """A picklable print sink that is silent when the net is not verbose."""

    def __init__(self, net):
        self.verbose = net.verbose

    def __call__(self, *args, **kwargs):
        if self.verbose:
            print(*args, **kwargs)

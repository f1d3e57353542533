"""skorch callbacks for the library's training recipes."""

import time

import torch
from skorch.callbacks import Callback, EarlyStopping

from ._teacher import resolve_teacher, teacher_columns


class InitialWeights(Callback):
    """Start a fresh ``fit`` from the weights of another model of the same network shape.

    Only the first epoch of a ``fit`` is affected (a resumed run's checkpoint,
    loaded after this callback by :class:`~fer_sklearn.persistence.ResumeTraining`,
    takes precedence). Holds a name or path, not a model, so it clones and pickles.

    Parameters
    ----------
    source : str or path
        A pretrained model's name (:func:`~fer_sklearn.available_models`) or a
        model file (:func:`~fer_sklearn.save_model`) of one network.
    """

    def __init__(self, source):
        self.source = source

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Copy the source's weights into ``net.module_`` when no epoch has run yet."""
        if len(net.history):
            return
        model = resolve_teacher(self.source)
        source = model[-1] if hasattr(model, "steps") else model
        state = source.module_.state_dict()
        try:
            net.module_.load_state_dict(state)
        except RuntimeError as exc:
            raise ValueError(f"InitialWeights({self.source!r}): its network does not have the "
                             f"shape of this one ({exc})") from None
        # each output unit to the class it stands for here (the source may list its classes in
        # another order, or as FER2013 codes where this net has names)
        order = teacher_columns(source, net.classes_)
        if list(order) != list(range(len(order))):
            net.module_.reorder_classes(order)


class TimeBudget(Callback):
    """Stop training when the next epoch would end past ``seconds`` of training.

    Counts the ``dur`` of the epochs in the history (a resumed run keeps its
    earlier epochs' time) and stops as early stopping does.

    Parameters
    ----------
    seconds : float
        The wall-clock budget of the whole training.
    """

    def __init__(self, seconds):
        self.seconds = seconds

    def on_epoch_end(self, net, **kwargs):
        """Stop when one more epoch of the mean length would pass the budget."""
        durations = [epoch.get("dur", 0.0) for epoch in net.history]
        spent = sum(durations)
        if spent + spent / max(1, len(durations)) > self.seconds:
            net.history.record("stopped_by_budget", True)
            raise KeyboardInterrupt


class EMA(Callback):
    """An exponential moving average of the weights, validated and kept instead of the weights.

    After every training step the average moves towards the weights by
    ``1 - decay``; the validation of each epoch runs on the average, and the
    trained network ends with it. Put it after the classifier's early stopping
    (the default order), which then keeps the best average.

    Parameters
    ----------
    decay : float, default=0.999
        Weight of the old average at each step.
    """

    def __init__(self, decay=0.999):
        self.decay = decay

    def on_train_begin(self, net, **kwargs):
        """Start the average at the current weights."""
        self.average_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}
        self.raw_ = None

    def on_batch_end(self, net, training=False, **kwargs):
        """Move the average (on the device, without waiting for it)."""
        if not training:
            return
        with torch.no_grad():
            for key, value in net.module_.state_dict().items():
                if value.is_floating_point():
                    self.average_[key].lerp_(value, 1 - self.decay)
                else:
                    self.average_[key].copy_(value)

    def on_batch_begin(self, net, training=False, **kwargs):
        """Before the first validation batch of an epoch, put the average in place."""
        if not training and self.raw_ is None:
            self.raw_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}
            net.module_.load_state_dict(self.average_)

    def on_epoch_end(self, net, **kwargs):
        """Put the trained weights back to go on training."""
        if self.raw_ is not None:
            net.module_.load_state_dict(self.raw_)
            self.raw_ = None

    def on_train_end(self, net, **kwargs):
        """End with the average, unless early stopping restored its best (an average too)."""
        restored = any(isinstance(cb, EarlyStopping) and cb.load_best for _, cb in net.callbacks_)
        if not restored:
            net.module_.load_state_dict(self.average_)


class ProgressLog(Callback):
    """Print a line every ``every`` seconds within long training epochs (for log files).

    ``epoch E: b/B batches, N images/s``; skorch's progress bar redraws itself,
    which floods a log file.

    Parameters
    ----------
    every : float, default=60
        Seconds between lines.
    """

    def __init__(self, every=60.0):
        self.every = every

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        """Note the start of the epoch."""
        self.n_batches_ = -(-len(dataset_train) // net.batch_size) if dataset_train else None
        self.started_ = self.last_ = time.perf_counter()
        self.batches_ = self.images_ = 0

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        """Count the batch; print when ``every`` seconds have passed."""
        if not training:
            return
        self.batches_ += 1
        self.images_ += len(batch[0])
        now = time.perf_counter()
        if now - self.last_ >= self.every:
            self.last_ = now
            print(f"epoch {len(net.history)}: {self.batches_}/{self.n_batches_} batches, "
                  f"{self.images_ / (now - self.started_):.0f} images/s", flush=True)

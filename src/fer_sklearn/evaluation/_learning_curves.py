"""The training history of a skorch model, and its learning curves."""

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from ._style import BLUE, GREEN, GREY, ORANGE, is_report, percent_formatter, pyplot

_HISTORY_KEYS = ("epoch", "train_loss", "valid_loss", "train_acc", "valid_acc", "lr", "dur",
                 "valid_loss_best", "train_loss_best")


def estimator_history(estimator):
    """The per-epoch history of a skorch net or of a pipeline ending in one, or None."""
    net = estimator[-1] if hasattr(estimator, "steps") else estimator
    history = getattr(net, "history_", None)
    if history is None:
        return None
    return [{key: _plain(epoch[key]) for key in _HISTORY_KEYS if key in epoch}
            for epoch in history]


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _history_of(source):
    if hasattr(source, "history_") or hasattr(source, "steps"):
        history = estimator_history(source)
    elif is_report(source):
        history = source.history
    elif isinstance(source, (list, tuple)):
        history = list(source)
    else:
        raise TypeError(
            "plot_learning_curves expects a fitted skorch model, a pipeline ending in one, its "
            "history (a list of per-epoch dicts) or an EvaluationReport, got "
            f"{type(source).__name__}"
        )
    if not history:
        raise ValueError("no training history to plot: the model has not been trained "
                         "(or the report was made without a history)")
    if not all(isinstance(epoch, dict) for epoch in history):
        raise TypeError("a history must be a list of per-epoch dicts such as skorch's History")
    if not any("train_loss" in epoch for epoch in history):
        raise ValueError("the history has no 'train_loss': it does not come from a trained model")
    return history


def _series(history, key):
    return np.array([epoch.get(key, np.nan) if epoch.get(key) is not None else np.nan
                     for epoch in history], dtype=float)


def _best_epoch(history, epochs):
    for key, loss in (("valid_loss_best", "valid_loss"), ("train_loss_best", "train_loss")):
        flags = [bool(epoch.get(key)) for epoch in history]
        if any(flags):
            return int(epochs[np.flatnonzero(flags)[-1]]), loss
        values = _series(history, loss)
        if np.isfinite(values).any():
            return int(epochs[np.nanargmin(values)]), loss
    return None, None


def plot_learning_curves(estimator_or_history, *, ax=None):
    """Plot the loss and accuracy per epoch, with the best epoch and the learning rate.

    Parameters
    ----------
    estimator_or_history : estimator, list of dict or EvaluationReport
        A fitted :class:`~fer_sklearn.EmotionClassifier` (or any skorch net),
        a pipeline ending in one, its ``history_``, or a report made by
        :func:`evaluate` from such a model.
    ax : matplotlib Axes or sequence of two Axes, default=None
        Two axes: losses (with the learning rate on a secondary axis) in the
        first, accuracies in the second. A single Axes draws the losses only.
        None makes a new figure with both panels.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.

    Examples
    --------
    >>> from fer_sklearn.evaluation import plot_learning_curves
    >>> history = [{"epoch": 1, "train_loss": 1.9, "valid_loss": 1.8, "lr": 1e-3},
    ...            {"epoch": 2, "train_loss": 1.5, "valid_loss": 1.6, "lr": 1e-3,
    ...             "valid_loss_best": True}]
    >>> fig = plot_learning_curves(history)
    """
    history = _history_of(estimator_or_history)
    if ax is None:
        fig, axes = pyplot().subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    else:
        axes = list(np.ravel(ax)) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        if len(axes) not in (1, 2):
            raise ValueError(f"ax must be one Axes or two, got {len(axes)}")
        fig = axes[0].figure
    epochs = np.array([epoch.get("epoch", i + 1) for i, epoch in enumerate(history)])
    best, monitored = _best_epoch(history, epochs)
    marker = "o" if len(epochs) <= 30 else None

    loss_ax = axes[0]
    _plot_train_valid(loss_ax, history, epochs, "loss", marker)
    loss_ax.set(xlabel="Epoch", ylabel="Cross-entropy loss", title="Loss")
    handles, labels = loss_ax.get_legend_handles_labels()
    lr_line = _plot_learning_rate(loss_ax, epochs, _series(history, "lr"))
    if lr_line is not None:
        handles.append(lr_line)
        labels.append("learning rate")

    acc_ax = axes[1] if len(axes) == 2 else None
    if acc_ax is not None:
        _plot_train_valid(acc_ax, history, epochs, "acc", marker)
        acc_ax.set(xlabel="Epoch", ylabel="Accuracy", title="Accuracy")
        acc_ax.yaxis.set_major_formatter(percent_formatter())

    for panel in [a for a in (loss_ax, acc_ax) if a is not None]:
        panel.grid(alpha=0.3)
        if best is not None:
            panel.axvline(best, color=GREEN, linestyle=":", linewidth=1.5)
        if len(epochs) <= 12:
            panel.set_xticks(epochs)
    if best is not None:
        handles.append(Line2D([], [], color=GREEN, linestyle=":", linewidth=1.5))
        labels.append(f"best epoch ({best}, {monitored.replace('_', ' ')})")
    loss_ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2,
                   fontsize=9, frameon=False)
    if acc_ax is not None and acc_ax.get_legend_handles_labels()[0]:
        acc_ax.legend(loc="lower right", fontsize=9, framealpha=0.9)
    return fig


def _plot_train_valid(ax, history, epochs, metric, marker):
    for split, label, colour in (("train", "train", BLUE), ("valid", "validation", ORANGE)):
        values = _series(history, f"{split}_{metric}")
        if np.isfinite(values).any():
            ax.plot(epochs, values, marker=marker, markersize=3.5, color=colour, label=label)


def _plot_learning_rate(ax, epochs, lr):
    """Draw the learning rate on a secondary axis of ``ax``; return its line (None without one)."""
    if not np.isfinite(lr).any():
        return None
    lr_ax = ax.twinx()
    (line,) = lr_ax.plot(epochs, lr, color=GREY, linestyle="--", linewidth=1.2,
                         drawstyle="steps-mid", label="learning rate")
    positive = lr[np.isfinite(lr) & (lr > 0)]
    if len(positive) and positive.max() / positive.min() > 20:
        lr_ax.set_yscale("log")
    elif len(positive):
        lr_ax.set_ylim(0, positive.max() * 1.15)
    lr_ax.set_ylabel("Learning rate", color=GREY)
    lr_ax.tick_params(axis="y", colors=GREY)
    lr_ax.yaxis.set_major_formatter(
        FuncFormatter(lambda value, _: f"{value:.1e}" if value else "0"))
    return line

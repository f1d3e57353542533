"""Charts of training and evaluation: learning curves, confusion matrix, calibration, mistakes."""

import numpy as np

from ._report import EvaluationReport, _estimator_history

# Okabe-Ito colours: distinguishable with colour-blindness and in grayscale print
_BLUE, _ORANGE, _GREEN, _VERMILION, _GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#777777"


def _pyplot():
    # matplotlib picks the Agg backend by itself where there is no display
    import matplotlib.pyplot as plt

    return plt


def _new_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _check_report(report, function):
    if not isinstance(report, EvaluationReport):
        raise TypeError(
            f"{function} expects an EvaluationReport (from fer_sklearn.evaluation.evaluate), "
            f"got {type(report).__name__}"
        )


# ---------------------------------------------------------------------- learning curves
def _history_of(source):
    if isinstance(source, EvaluationReport):
        history = source.history
    elif hasattr(source, "history_") or hasattr(source, "steps"):
        history = _estimator_history(source)
    elif isinstance(source, (list, tuple)):
        history = list(source)
    else:
        raise TypeError(
            "plot_learning_curves expects a fitted skorch model, a pipeline ending in one, its "
            f"history (a list of per-epoch dicts) or an EvaluationReport, got {type(source).__name__}"
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
        plt = _pyplot()
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    else:
        axes = list(np.ravel(ax)) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        if len(axes) not in (1, 2):
            raise ValueError(f"ax must be one Axes or two, got {len(axes)}")
        fig = axes[0].figure
    epochs = np.array([epoch.get("epoch", i + 1) for i, epoch in enumerate(history)])
    best, monitored = _best_epoch(history, epochs)
    marker = "o" if len(epochs) <= 30 else None

    loss_ax = axes[0]
    for key, label, colour in (("train_loss", "train", _BLUE), ("valid_loss", "validation", _ORANGE)):
        values = _series(history, key)
        if np.isfinite(values).any():
            loss_ax.plot(epochs, values, marker=marker, markersize=3.5, color=colour, label=label)
    loss_ax.set(xlabel="Epoch", ylabel="Cross-entropy loss", title="Loss")
    lr = _series(history, "lr")
    handles, labels = loss_ax.get_legend_handles_labels()
    if np.isfinite(lr).any():
        lr_ax = loss_ax.twinx()
        (line,) = lr_ax.plot(epochs, lr, color=_GREY, linestyle="--", linewidth=1.2,
                             drawstyle="steps-mid", label="learning rate")
        positive = lr[np.isfinite(lr) & (lr > 0)]
        if len(positive) and positive.max() / positive.min() > 20:
            lr_ax.set_yscale("log")
        lr_ax.set_ylabel("Learning rate", color=_GREY)
        lr_ax.tick_params(axis="y", colors=_GREY)
        if lr_ax.get_yscale() == "linear" and len(positive):
            lr_ax.set_ylim(0, positive.max() * 1.15)
        from matplotlib.ticker import FuncFormatter

        lr_ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.1e}" if value else "0"))
        handles.append(line)
        labels.append("learning rate")

    acc_ax = axes[1] if len(axes) == 2 else None
    if acc_ax is not None:
        for key, label, colour in (("train_acc", "train", _BLUE), ("valid_acc", "validation", _ORANGE)):
            values = _series(history, key)
            if np.isfinite(values).any():
                acc_ax.plot(epochs, values, marker=marker, markersize=3.5, color=colour, label=label)
        acc_ax.set(xlabel="Epoch", ylabel="Accuracy", title="Accuracy")
        acc_ax.yaxis.set_major_formatter(_percent_formatter())

    for panel in [a for a in (loss_ax, acc_ax) if a is not None]:
        panel.grid(alpha=0.3)
        if best is not None:
            panel.axvline(best, color=_GREEN, linestyle=":", linewidth=1.5)
        if len(epochs) <= 12:
            panel.set_xticks(epochs)
    if best is not None:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color=_GREEN, linestyle=":", linewidth=1.5))
        labels.append(f"best epoch ({best}, {monitored.replace('_', ' ')})")
    loss_ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2,
                   fontsize=9, frameon=False)
    if acc_ax is not None and acc_ax.get_legend_handles_labels()[0]:
        acc_ax.legend(loc="lower right", fontsize=9, framealpha=0.9)
    return fig


def _percent_formatter():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1, decimals=0)


# ---------------------------------------------------------------------- confusion matrix
def plot_confusion_matrix(report, *, normalize=True, ax=None, cmap="Blues"):
    """Plot the confusion matrix of a report, with the class names on the axes.

    Each cell shows the share of its row (the true class) and, below it, the
    count of images.

    Parameters
    ----------
    report : EvaluationReport
        A report from :func:`evaluate`.
    normalize : bool, default=True
        Colour by the row-normalised matrix (recall on the diagonal); False
        colours by counts.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new figure.
    cmap : str or Colormap, default="Blues"
        A sequential colour map.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.
    """
    _check_report(report, "plot_confusion_matrix")
    n = len(report.class_names)
    fig, ax = _new_axes(ax, (1.0 * n + 2.2, 0.9 * n + 1.6))
    counts = report.confusion_matrix
    shares = report.confusion_matrix_normalized
    values = shares if normalize else counts
    vmax = 1.0 if normalize else max(1, counts.max())
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=vmax)
    colorbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    colorbar.set_label("Share of the true class" if normalize else "Images")
    if normalize:
        colorbar.ax.yaxis.set_major_formatter(_percent_formatter())
    for i in range(n):
        for j in range(n):
            level = values[i, j] / vmax
            dark = level > 0.55
            text = f"{shares[i, j]:.0%}\n({counts[i, j]})" if normalize else f"{counts[i, j]}"
            if counts[i, j] == 0:
                text = "0"
            ax.text(j, i, text, ha="center", va="center", fontsize=8.5 if n <= 8 else 7,
                    color="white" if dark else ("#222222" if counts[i, j] else "#9a9a9a"),
                    fontweight="bold" if i == j else "normal")
    ax.set_xticks(range(n), report.class_names, rotation=40, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(n), report.class_names)
    ax.set_xlabel("Predicted emotion")
    ax.set_ylabel("True emotion")
    ax.set_title(f"Confusion matrix (accuracy {report.accuracy:.1%}, n={report.n_samples})")
    ax.set_xticks(np.arange(n + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    return fig


# ---------------------------------------------------------------------- per-class metrics
def plot_per_class_metrics(report, *, ax=None):
    """Plot precision, recall and F1 of each class as grouped bars.

    Parameters
    ----------
    report : EvaluationReport
        A report from :func:`evaluate`.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.
    """
    _check_report(report, "plot_per_class_metrics")
    names = report.class_names
    fig, ax = _new_axes(ax, (max(6.5, 1.15 * len(names) + 1.5), 4.2))
    x = np.arange(len(names))
    width = 0.26
    for k, (key, label, colour) in enumerate((("precision", "Precision", _BLUE),
                                              ("recall", "Recall", _ORANGE),
                                              ("f1-score", "F1", _GREEN))):
        values = [report.per_class[name][key] for name in names]
        ax.bar(x + (k - 1) * width, values, width, label=label, color=colour,
               edgecolor="white", linewidth=0.5)
    ax.axhline(report.f1_macro, color=_GREY, linestyle="--", linewidth=1,
               label=f"macro F1 ({report.f1_macro:.2f})")
    supports = [int(report.per_class[name]["support"]) for name in names]
    ax.set_xticks(x, [f"{name}\nn={s}" for name, s in zip(names, supports)])
    ax.set_ylim(0, 1.08)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.yaxis.set_major_formatter(_percent_formatter())
    ax.set_ylabel("Score")
    ax.set_title("Precision, recall and F1 per class")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=4, fontsize=9, frameon=False)
    return fig


# ---------------------------------------------------------------------- calibration
def plot_reliability_diagram(report, *, ax=None):
    """Plot the reliability diagram: accuracy against confidence, per confidence bin.

    Bars show the accuracy of the images whose top-class probability falls in
    each bin, and a red line their mean confidence; the diagonal is perfect
    calibration, and the expected calibration error (in the legend) averages
    the distance between bar top and red line, weighted by the number of
    images written at the foot of each bar. Bins without images stay empty.

    Parameters
    ----------
    report : EvaluationReport
        A report from :func:`evaluate`.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.
    """
    _check_report(report, "plot_reliability_diagram")
    fig, ax = _new_axes(ax, (5.2, 6.0))
    bins = report.reliability
    edges = bins["edges"]
    centres = (edges[:-1] + edges[1:]) / 2
    width = np.diff(edges)
    filled = bins["count"] > 0
    accuracy, confidence, count = (bins[key][filled] for key in ("accuracy", "confidence", "count"))
    ax.bar(centres[filled], accuracy, width[filled], color=_BLUE, edgecolor="white",
           linewidth=0.8, label="accuracy in bin")
    ax.plot([0, 1], [0, 1], color=_GREY, linestyle="--", linewidth=1, label="perfect calibration")
    for c, w, acc, conf in zip(centres[filled], width[filled], accuracy, confidence):
        ax.plot([c - w / 2, c + w / 2], [conf, conf], color=_VERMILION, linewidth=2.2,
                solid_capstyle="butt")
    ax.plot([], [], color=_VERMILION, linewidth=2.2, label="mean confidence in bin")
    if len(edges) <= 21:  # room for the number of images in each bin
        for c, acc, n in zip(centres[filled], accuracy, count):
            inside = acc >= 0.1
            ax.text(c, 0.015 if inside else acc + 0.015, str(int(n)), ha="center", va="bottom",
                    fontsize=7, color="white" if inside else "#444444")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="Confidence (top-class probability)",
           ylabel="Accuracy", title="Reliability diagram")
    ax.set_aspect("equal")
    ax.xaxis.set_major_formatter(_percent_formatter())
    ax.yaxis.set_major_formatter(_percent_formatter())
    ax.grid(alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=8.5,
              frameon=False, title=f"expected calibration error (ECE) = {report.ece:.3f}",
              title_fontsize=9)
    return fig


# ---------------------------------------------------------------------- mistakes
def plot_misclassified(report, *, n_images=12, n_cols=6, ax=None):
    """Show the most confidently misclassified faces with their true and predicted labels.

    Parameters
    ----------
    report : EvaluationReport
        A report from :func:`evaluate` (it keeps up to 24 such faces).
    n_images : int, default=12
        How many faces to show, the most confident mistakes first.
    n_cols : int, default=6
        Faces per row.
    ax : matplotlib Axes, default=None
        The area to lay the grid out in (its own frame is hidden); None makes
        a new figure sized for the grid.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.
    """
    _check_report(report, "plot_misclassified")
    for name, value in (("n_images", n_images), ("n_cols", n_cols)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    mistakes = report.misclassified
    shown = min(n_images, len(mistakes["index"]))
    n_cols = min(n_cols, max(shown, 1))
    n_rows = max(1, -(-shown // n_cols))
    fig, ax = _new_axes(ax, (1.55 * n_cols, 1.95 * n_rows + 0.5))
    ax.set_axis_off()
    ax.set_title(f"Most confident mistakes ({len(report.y_true) - int((report.y_true == report.y_pred).sum())}"
                 f" of {report.n_samples} images misclassified)", fontsize=10)
    if shown == 0:
        ax.text(0.5, 0.5, "No misclassified images", ha="center", va="center",
                transform=ax.transAxes, fontsize=11, color=_GREY)
        return fig
    names = report.class_names
    cell_w, cell_h = 1.0 / n_cols, 1.0 / n_rows
    for k in range(shown):
        row, col = divmod(k, n_cols)
        inset = ax.inset_axes([col * cell_w + 0.06 * cell_w, 1 - (row + 1) * cell_h + 0.02 * cell_h,
                               0.88 * cell_w, 0.72 * cell_h])
        image = mistakes["images"][k]
        inset.imshow(image, cmap="gray", vmin=float(image.min()), vmax=float(image.max()) or 1.0,
                     interpolation="nearest")
        inset.set_xticks([])
        inset.set_yticks([])
        for spine in inset.spines.values():
            spine.set_edgecolor(_VERMILION)
            spine.set_linewidth(1.2)
        true, pred = names[mistakes["true"][k]], names[mistakes["pred"][k]]
        inset.set_title(f"true: {true}\npred: {pred} ({mistakes['confidence'][k]:.0%})",
                        fontsize=7.5, linespacing=1.15, pad=3)
    return fig

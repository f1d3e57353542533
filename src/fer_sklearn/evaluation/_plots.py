"""Charts of an evaluation report: confusion matrix, per-class scores, calibration, mistakes."""

import numbers

import numpy as np
from sklearn.calibration import CalibrationDisplay
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.utils import check_scalar

from ._style import BLUE, GREEN, GREY, ORANGE, VERMILION, check_report, new_axes, percent_formatter


# ---------------------------------------------------------------------- confusion matrix
def plot_confusion_matrix(report, *, normalize=True, ax=None, cmap="Blues"):
    """Plot the confusion matrix of a report, with the class names on the axes.

    Draws with :class:`sklearn.metrics.ConfusionMatrixDisplay`; each cell shows
    the share of its row (the true class) and, below it, the count of images.

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
    check_report(report, "plot_confusion_matrix")
    n = len(report.class_names)
    fig, ax = new_axes(ax, (1.0 * n + 2.2, 0.9 * n + 1.6))
    counts, shares = report.confusion_matrix, report.confusion_matrix_normalized
    display = ConfusionMatrixDisplay(shares if normalize else counts,
                                     display_labels=report.class_names)
    display.plot(ax=ax, cmap=cmap, values_format=".0%" if normalize else "d",
                 im_kw={"vmin": 0, "vmax": 1.0 if normalize else max(1, counts.max())},
                 text_kw={"fontsize": 8.5 if n <= 8 else 7})
    for (i, j), text in np.ndenumerate(display.text_):
        if counts[i, j] == 0:
            text.set(text="0", color="#9a9a9a")
        elif normalize:
            text.set_text(f"{shares[i, j]:.0%}\n({counts[i, j]})")
        text.set_fontweight("bold" if i == j else "normal")
    colorbar = display.im_.colorbar
    colorbar.set_label("Share of the true class" if normalize else "Images")
    if normalize:
        colorbar.ax.yaxis.set_major_formatter(percent_formatter())
    for label in ax.get_xticklabels():
        label.set(rotation=40, ha="right", rotation_mode="anchor")
    ax.set(xlabel="Predicted emotion", ylabel="True emotion",
           title=f"Confusion matrix (accuracy {report.accuracy:.1%}, n={report.n_samples})")
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
    check_report(report, "plot_per_class_metrics")
    names = report.class_names
    fig, ax = new_axes(ax, (max(6.5, 1.15 * len(names) + 1.5), 4.2))
    x = np.arange(len(names))
    width = 0.26
    for k, (key, label, colour) in enumerate((("precision", "Precision", BLUE),
                                              ("recall", "Recall", ORANGE),
                                              ("f1-score", "F1", GREEN))):
        values = [report.per_class[name][key] for name in names]
        ax.bar(x + (k - 1) * width, values, width, label=label, color=colour,
               edgecolor="white", linewidth=0.5)
    ax.axhline(report.f1_macro, color=GREY, linestyle="--", linewidth=1,
               label=f"macro F1 ({report.f1_macro:.2f})")
    supports = [int(report.per_class[name]["support"]) for name in names]
    ax.set_xticks(x, [f"{name}\nn={s}" for name, s in zip(names, supports)])
    ax.set_ylim(0, 1.08)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.yaxis.set_major_formatter(percent_formatter())
    ax.set_ylabel("Score")
    ax.set_title("Precision, recall and F1 per class")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=4, fontsize=9, frameon=False)
    return fig


# ---------------------------------------------------------------------- calibration
def plot_reliability_diagram(report, *, ax=None):
    """Plot the reliability diagram: accuracy against confidence, per confidence bin.

    Draws with :class:`sklearn.calibration.CalibrationDisplay`, for the top
    class: one point per non-empty bin, at the mean confidence of its images
    and their accuracy, with the number of images beside it. The diagonal is
    perfect calibration; the expected calibration error (in the legend) is
    the mean distance to it, weighted by those numbers.

    Parameters
    ----------
    report : EvaluationReport
        A report from :func:`evaluate`; its ``reliability`` bins are drawn.
    ax : matplotlib Axes, default=None
        Where to draw (a square plot); None makes a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.
    """
    check_report(report, "plot_reliability_diagram")
    fig, ax = new_axes(ax, (5.2, 6.0))
    bins = report.reliability
    filled = bins["count"] > 0
    accuracy, confidence, count = (bins[key][filled] for key in ("accuracy", "confidence", "count"))
    display = CalibrationDisplay(accuracy, confidence, np.max(report.proba, axis=1),
                                 estimator_name=report.model)
    display.plot(ax=ax, name="accuracy in bin", color=BLUE, markersize=5)
    if len(bins["edges"]) <= 21:  # room for the number of images in each bin
        for conf, acc, n in zip(confidence, accuracy, count):
            ax.annotate(str(int(n)), (conf, acc), xytext=(0, 7), textcoords="offset points",
                        ha="center", fontsize=7, color="#444444", zorder=3,
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                              "alpha": 0.8})
    ax.set(xlim=(0, 1), ylim=(0, 1.05), xlabel="Confidence (top-class probability)",
           ylabel="Accuracy", title="Reliability diagram")
    ax.set_aspect("equal")
    ax.xaxis.set_major_formatter(percent_formatter())
    ax.yaxis.set_major_formatter(percent_formatter())
    ax.grid(alpha=0.3)
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
    check_report(report, "plot_misclassified")
    check_scalar(n_images, "n_images", numbers.Integral, min_val=1)
    check_scalar(n_cols, "n_cols", numbers.Integral, min_val=1)
    mistakes = report.misclassified
    shown = min(n_images, len(mistakes["index"]))
    n_cols = min(n_cols, max(shown, 1))
    n_rows = max(1, -(-shown // n_cols))
    fig, ax = new_axes(ax, (1.55 * n_cols, 1.95 * n_rows + 0.5))
    ax.set_axis_off()
    n_wrong = int(np.sum(report.y_true != report.y_pred))
    ax.set_title(f"Most confident mistakes ({n_wrong} of {report.n_samples} images misclassified)",
                 fontsize=10)
    if shown == 0:
        ax.text(0.5, 0.5, "No misclassified images", ha="center", va="center",
                transform=ax.transAxes, fontsize=11, color=GREY)
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
            spine.set_edgecolor(VERMILION)
            spine.set_linewidth(1.2)
        true, pred = names[mistakes["true"][k]], names[mistakes["pred"][k]]
        inset.set_title(f"true: {true}\npred: {pred} ({mistakes['confidence'][k]:.0%})",
                        fontsize=7.5, linespacing=1.15, pad=3)
    return fig

"""The report's saliency maps: the mean map per true class, and the maps of the mistakes."""

import numbers

import numpy as np
from sklearn.utils import check_scalar

from ..explanation import METHODS, SaliencyDisplay, auto_method, explain, overlay_saliency
from ..preprocessing import Grayscale
from ..utils import check_images
from ._style import GREY, check_report, new_axes


def check_explain(value):
    """``evaluate``'s ``explain``: False, True (the default method) or a method's name."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, str) and value in METHODS):
        return "auto" if value is True else value
    raise ValueError(f"explain must be True, False or one of {list(METHODS)}, got {value!r}")


def report_saliency(estimator, X, y_index, mistakes, method):
    """What the report keeps of the maps (None without ``method``).

    Each face is explained for its true class, and the maps averaged per class: where the
    model finds the evidence of each emotion on the faces that show it. The most confident
    mistakes are explained for the class the model wrongly chose: why it chose it.
    """
    if not method:
        return None
    classes = np.asarray(estimator.classes_)
    maps = explain(estimator, X, target=classes[y_index], method=method)
    faces = Grayscale().fit_transform(check_images(np.asarray(X)))
    n_classes, size = len(classes), maps.shape[1:]
    mean_map, mean_face = np.zeros((n_classes, *size)), np.zeros((n_classes, *size))
    count = np.bincount(y_index, minlength=n_classes)
    for k in np.flatnonzero(count):
        mean_map[k] = maps[y_index == k].mean(axis=0)
        mean_face[k] = faces[y_index == k].mean(axis=0)
    worst = mistakes["index"]
    wrong = (explain(estimator, np.asarray(X)[worst], target=classes[mistakes["pred"]],
                     method=method) if len(worst) else np.empty((0, *size), np.float32))
    method = auto_method(estimator) if method == "auto" else method
    return {"method": method, "mean_by_class": mean_map, "mean_face_by_class": mean_face,
            "count_by_class": count, "misclassified": wrong}


def _check(report, function):
    check_report(report, function)
    if getattr(report, "saliency", None) is None:
        raise ValueError(f"{function} needs a report with saliency maps: "
                         "evaluate(model, X, y, explain=True)")
    return report.saliency


def plot_saliency_per_class(report, *, n_cols=7, ax=None):
    """Show each true class's mean saliency map over its mean face.

    Parameters
    ----------
    report : EvaluationReport
        A report of ``evaluate(..., explain=True)``.
    n_cols : int, default=7
        Classes per row.
    ax : matplotlib Axes, default=None
        The area to lay the panels out in (its own frame is hidden); None makes
        a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.
    """
    saliency = _check(report, "plot_saliency_per_class")
    check_scalar(n_cols, "n_cols", numbers.Integral, min_val=1)
    n = len(report.class_names)
    n_cols = min(n_cols, n)
    n_rows = -(-n // n_cols)
    fig, ax = new_axes(ax, (1.6 * n_cols, 2.0 * n_rows + 0.4))
    ax.set_axis_off()
    ax.set_title(f"Where the evidence of each emotion lies: the mean {saliency['method']} map "
                 "of the faces of each true class, over their mean face", fontsize=10)
    cell_w, cell_h = 1.0 / n_cols, 1.0 / n_rows
    for k, name in enumerate(report.class_names):
        row, col = divmod(k, n_cols)
        inset = ax.inset_axes([(col + 0.06) * cell_w, 1 - (row + 0.95) * cell_h,
                               0.88 * cell_w, 0.75 * cell_h])
        inset.set_xticks([])
        inset.set_yticks([])
        count = int(saliency["count_by_class"][k])
        inset.set_title(f"{name} ({count})", fontsize=8, pad=3)
        if count:
            face = saliency["mean_face_by_class"][k]
            spread = float(face.max() - face.min()) or 1.0
            # the map's minimum subtracted: a mean map is nowhere 0, its contrast is the point
            mean_map = saliency["mean_by_class"][k]
            inset.imshow(overlay_saliency((face - face.min()) / spread,
                                          mean_map - mean_map.min()),
                         interpolation="nearest")
        else:
            inset.text(0.5, 0.5, "no faces", ha="center", va="center", fontsize=8, color=GREY,
                       transform=inset.transAxes)
    return fig


def plot_misclassified_saliency(report, *, n_images=12, n_cols=6, ax=None):
    """Show the most confident mistakes, each with the map of the class wrongly chosen.

    Parameters
    ----------
    report : EvaluationReport
        A report of ``evaluate(..., explain=True)``.
    n_images : int, default=12
        How many faces to show, the most confident mistakes first.
    n_cols : int, default=6
        Faces per row.
    ax : matplotlib Axes, default=None
        The area to lay the grid out in; None makes a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.
    """
    saliency = _check(report, "plot_misclassified_saliency")
    check_scalar(n_images, "n_images", numbers.Integral, min_val=1)
    mistakes = report.misclassified
    shown = min(n_images, len(mistakes["index"]))
    if shown == 0:
        fig, ax = new_axes(ax, (4, 1.5))
        ax.set_axis_off()
        ax.text(0.5, 0.5, "No misclassified images", ha="center", va="center", color=GREY)
        return fig
    names = np.asarray(report.class_names)
    display = SaliencyDisplay(mistakes["images"][:shown], saliency["misclassified"][:shown],
                              y_pred=[f"{names[p]} ({c:.0%})" for p, c in
                                      zip(mistakes["pred"][:shown],
                                          mistakes["confidence"][:shown])],
                              y_true=names[mistakes["true"][:shown]])
    display.plot(ax=ax, n_cols=n_cols)
    display.ax_.set_title("Most confident mistakes: where the model found the emotion it chose",
                          fontsize=10)
    return display.figure_

"""What the charts share: colours, new axes, percent ticks and the check of their report
argument."""

import matplotlib.pyplot as plt
from matplotlib.ticker import PercentFormatter

# Okabe-Ito colours: distinguishable with colour-blindness and in grayscale print
BLUE, ORANGE, GREEN, VERMILION, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#777777"


def pyplot():
    """matplotlib.pyplot (it picks Agg where there is no display)."""
    return plt


def new_axes(ax, figsize):
    """The figure of ``ax``, or a new figure and axes of ``figsize`` when ``ax`` is None."""
    if ax is not None:
        return ax.figure, ax
    return pyplot().subplots(figsize=figsize, layout="constrained")


def percent_formatter():
    """Tick labels for fractions in [0, 1], written as percentages.

    With as many decimals as the ticks' spacing needs (``decimals=None``): an axis that spans
    22-23% reads 22.0%, 22.2%, ..., not 22%, 22%, 22%, 23%.
    """
    return PercentFormatter(xmax=1, decimals=None)


def is_report(obj):
    """Whether ``obj`` carries what the charts read from an EvaluationReport."""
    return all(hasattr(obj, name) for name in ("class_names", "per_class", "confusion_matrix",
                                               "reliability", "misclassified", "history"))


def check_report(report, function):
    """Raise a TypeError unless ``report`` is an EvaluationReport (or quacks like one)."""
    if not is_report(report):
        raise TypeError(
            f"{function} expects an EvaluationReport (from fer_sklearn.evaluation.evaluate), "
            f"got {type(report).__name__}"
        )

"""Evaluation of fitted emotion classifiers: reports, metrics and charts.

:func:`evaluate` measures a fitted model on labelled images and returns an
:class:`EvaluationReport`, which exports to JSON, Markdown and a
self-contained HTML page with its charts. The plotting functions draw with
matplotlib, take an optional ``ax`` and return the figure.
"""

from ._plots import (
    plot_confusion_matrix,
    plot_learning_curves,
    plot_misclassified,
    plot_per_class_metrics,
    plot_reliability_diagram,
)
from ._report import EvaluationReport, evaluate, expected_calibration_error

__all__ = [
    "EvaluationReport",
    "evaluate",
    "expected_calibration_error",
    "plot_confusion_matrix",
    "plot_learning_curves",
    "plot_misclassified",
    "plot_per_class_metrics",
    "plot_reliability_diagram",
]

"""Evaluation of fitted emotion classifiers: reports, metrics and charts.

:func:`evaluate` measures a fitted model on labelled images and returns an
:class:`EvaluationReport`, which exports to JSON, Markdown and a
self-contained HTML page with its charts. The plotting functions draw with
matplotlib, take an optional ``ax`` and return the figure.

The modules depend one way, without a cycle: ``_metrics`` (scores, calibration
error, label alignment) and ``_style`` (what the charts share) <- ``_plots``,
``_learning_curves``, ``_export`` (JSON, Markdown, HTML, the saved folder) and
``_saliency`` (the maps of :mod:`fer_sklearn.explanation`) <- ``_report``
(:func:`evaluate` and :class:`EvaluationReport`, whose methods call the others). The
charts read a report's attributes, not its class.
"""

from ._learning_curves import plot_learning_curves
from ._metrics import expected_calibration_error
from ._plots import (
    plot_confusion_matrix,
    plot_misclassified,
    plot_per_class_metrics,
    plot_reliability_diagram,
)
from ._provenance import machine_info
from ._report import EvaluationReport, evaluate
from ._saliency import plot_misclassified_saliency, plot_saliency_per_class

__all__ = [
    "EvaluationReport",
    "evaluate",
    "expected_calibration_error",
    "machine_info",
    "plot_confusion_matrix",
    "plot_learning_curves",
    "plot_misclassified",
    "plot_misclassified_saliency",
    "plot_per_class_metrics",
    "plot_reliability_diagram",
    "plot_saliency_per_class",
]

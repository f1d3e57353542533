"""The metrics of an evaluation: scikit-learn's scores, and the calibration error that is ours."""

import numbers
import warnings

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    classification_report,
    confusion_matrix,
    f1_score,
    log_loss,
    top_k_accuracy_score,
)
from sklearn.utils import check_array, check_consistent_length, check_scalar, column_or_1d

from ..utils import EMOTIONS, labels_like

SUMMARY_METRICS = (
    ("accuracy", "Accuracy"),
    ("balanced_accuracy", "Balanced accuracy"),
    ("f1_macro", "Macro F1"),
    ("f1_weighted", "Weighted F1"),
    ("top2_accuracy", "Top-2 accuracy"),
    ("log_loss", "Log loss"),
    ("ece", "Expected calibration error"),
)
"""The summary metrics of a report: attribute name and display label."""


def check_proba(proba, y_true):
    """Validate predicted probabilities against the labels they score."""
    proba = check_array(proba, dtype=np.float64, input_name="proba")
    if proba.shape[1] < 2:
        raise ValueError(f"proba must have shape (n_samples, n_classes) with n_classes >= 2, "
                         f"got {proba.shape}")
    check_consistent_length(y_true, proba)
    if proba.min() < 0 or proba.max() > 1:
        raise ValueError("proba must hold probabilities in [0, 1]")
    return proba


def check_n_bins(n_bins):
    """Validate a number of confidence bins."""
    check_scalar(n_bins, "n_bins", numbers.Integral, min_val=1)


def reliability_bins(y_true, proba, *, n_bins=15):
    """Bin the top-class confidences and compare them with the accuracy in each bin.

    Unlike :func:`sklearn.calibration.calibration_curve`, which is for binary
    problems and drops empty bins, this keeps every bin and its size, which the
    calibration error weights by.

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
        The true class as a column index of ``proba``.
    proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities.
    n_bins : int, default=15
        Equal-width confidence bins over [0, 1].

    Returns
    -------
    bins : dict
        ``edges`` (``n_bins + 1``), and per bin ``count``, ``confidence`` (mean
        top-class probability) and ``accuracy`` (NaN for an empty bin).
    """
    check_n_bins(n_bins)
    y_true = column_or_1d(y_true)
    proba = check_proba(proba, y_true)
    if y_true.dtype.kind not in "iu" or y_true.min() < 0 or y_true.max() >= proba.shape[1]:
        raise ValueError(
            f"y_true must hold column indices of proba (integers 0 to {proba.shape[1] - 1}); "
            "pass classes= to map labels to columns"
        )
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    edges = np.linspace(0, 1, n_bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(index, confidence, minlength=n_bins) / count
        accuracy = np.bincount(index, correct.astype(float), minlength=n_bins) / count
    return {"edges": edges, "count": count, "confidence": mean_conf, "accuracy": accuracy}


def expected_calibration_error(y_true, proba, *, classes=None, n_bins=15):
    """Expected calibration error of predicted probabilities.

    The top-class confidences are put into ``n_bins`` equal-width bins; the
    error is the average, weighted by bin size, of ``|accuracy - confidence|``
    in each bin (Guo et al., 2017). 0 is perfectly calibrated.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels: column indices of ``proba``, or labels from ``classes``.
    proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities, e.g. ``estimator.predict_proba(X)``.
    classes : array-like of shape (n_classes,), default=None
        The label of each column of ``proba`` (``estimator.classes_``); None
        means ``y_true`` already holds column indices.
    n_bins : int, default=15
        Number of confidence bins.

    Returns
    -------
    ece : float
        The expected calibration error, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn.evaluation import expected_calibration_error
    >>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    >>> round(expected_calibration_error([0, 1, 1], proba, n_bins=10), 3)
    0.4
    """
    y_true = column_or_1d(y_true)
    if classes is not None:
        y_true = label_indices(y_true, np.asarray(classes))
    bins = reliability_bins(y_true, proba, n_bins=n_bins)
    filled = bins["count"] > 0
    gap = np.abs(bins["accuracy"][filled] - bins["confidence"][filled])
    return float(np.sum(gap * bins["count"][filled]) / bins["count"].sum())


def classification_metrics(y_index, proba, class_names, *, n_bins=15):
    """All the metrics of :class:`EvaluationReport`, from true column indices and probabilities.

    Returns
    -------
    metrics : dict
        The summary metrics (:data:`SUMMARY_METRICS`), ``per_class``,
        ``confusion`` and ``reliability``.
    """
    pred = proba.argmax(axis=1)
    columns = np.arange(proba.shape[1])
    with warnings.catch_warnings():
        # a class the model predicts but the evaluation set lacks has no recall to average
        warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
        balanced = balanced_accuracy_score(y_index, pred)
    f1 = {average: float(f1_score(y_index, pred, labels=columns, average=average, zero_division=0))
          for average in ("macro", "weighted")}
    return {
        "accuracy": float(accuracy_score(y_index, pred)),
        "balanced_accuracy": float(balanced),
        "f1_macro": f1["macro"],
        "f1_weighted": f1["weighted"],
        # with two classes the top two are all of them; sklearn warns that the score is meaningless
        "top2_accuracy": (float(top_k_accuracy_score(y_index, proba, k=2, labels=columns))
                          if len(columns) > 2 else 1.0),
        "log_loss": float(log_loss(y_index, _renormalised(proba), labels=columns)),
        "ece": expected_calibration_error(y_index, proba, n_bins=n_bins),
        "per_class": classification_report(y_index, pred, labels=columns, target_names=class_names,
                                           output_dict=True, zero_division=0),
        "confusion": confusion_matrix(y_index, pred, labels=columns),
        "reliability": reliability_bins(y_index, proba, n_bins=n_bins),
    }


def _renormalised(proba):
    # float32 network outputs sum to 1 only up to rounding, which log_loss warns about
    proba = np.clip(proba, 1e-15, 1)
    return proba / proba.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------- labels
def label_indices(y, classes):
    """Column index in ``classes`` of each label of ``y``, mapping emotion names and codes."""
    y = labels_like(y, classes)
    index = {label: i for i, label in enumerate(classes.tolist())}
    unknown = [label for label in dict.fromkeys(y.tolist()) if label not in index]
    if unknown:
        raise ValueError(
            f"y contains the label {unknown[0]!r}, which the model does not know; "
            f"its classes are {classes.tolist()}"
        )
    return np.array([index[label] for label in y.tolist()], dtype=np.int64)


def class_names(classes):
    """Display names of the classes: emotion names for FER2013 codes, else the labels."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iu" and classes.min() >= 0 and classes.max() < len(EMOTIONS):
        return [EMOTIONS[int(c)] for c in classes]
    return [str(c) for c in classes]

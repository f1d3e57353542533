"""evaluate and EvaluationReport: the metrics of a fitted emotion classifier on labelled images."""

import base64
import html
import io
import json
import numbers
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    classification_report,
    confusion_matrix,
    f1_score,
    log_loss,
)
from sklearn.utils.validation import check_is_fitted

from ..utils._labels import EMOTIONS, emotion_codes
from ..utils._validation import check_images, check_labels

_N_MISCLASSIFIED = 24
_HISTORY_KEYS = ("epoch", "train_loss", "valid_loss", "train_acc", "valid_acc", "lr", "dur",
                 "valid_loss_best", "train_loss_best")

_SUMMARY = (
    ("accuracy", "Accuracy"),
    ("balanced_accuracy", "Balanced accuracy"),
    ("f1_macro", "Macro F1"),
    ("f1_weighted", "Weighted F1"),
    ("top2_accuracy", "Top-2 accuracy"),
    ("log_loss", "Log loss"),
    ("ece", "Expected calibration error"),
)


# ---------------------------------------------------------------------- calibration
def _check_proba(proba, n_samples):
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] < 2:
        raise ValueError(
            f"proba must have shape (n_samples, n_classes) with n_classes >= 2, got {proba.shape}"
        )
    if len(proba) != n_samples:
        raise ValueError(f"y_true and proba have different lengths: {n_samples} and {len(proba)}")
    if not np.isfinite(proba).all() or proba.min() < 0 or proba.max() > 1:
        raise ValueError("proba must hold probabilities in [0, 1]")
    return proba


def _check_n_bins(n_bins):
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")


def reliability_bins(y_true, proba, *, n_bins=15):
    """Bin the top-class confidences and compare them with the accuracy in each bin.

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
    _check_n_bins(n_bins)
    y_true = check_labels(y_true, len(np.asarray(y_true)))
    proba = _check_proba(proba, len(y_true))
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
    y_true = check_labels(y_true, len(np.asarray(y_true)))
    if classes is not None:
        y_true = _label_indices(y_true, np.asarray(classes))
    bins = reliability_bins(y_true, proba, n_bins=n_bins)
    filled = bins["count"] > 0
    gap = np.abs(bins["accuracy"][filled] - bins["confidence"][filled])
    return float(np.sum(gap * bins["count"][filled]) / bins["count"].sum())


# ---------------------------------------------------------------------- labels
def _label_indices(y, classes):
    """Column index in ``classes`` of each label of ``y``, mapping emotion names and codes."""
    y = _align_labels(y, classes)
    index = {label: i for i, label in enumerate(classes.tolist())}
    unknown = [label for label in dict.fromkeys(y.tolist()) if label not in index]
    if unknown:
        raise ValueError(
            f"y contains the label {unknown[0]!r}, which the model does not know; "
            f"its classes are {classes.tolist()}"
        )
    return np.array([index[label] for label in y.tolist()], dtype=np.int64)


def _align_labels(y, classes):
    """Give ``y`` the kind of label the model was fitted on (emotion codes vs names)."""
    y_is_text = y.dtype.kind in "USO" and all(isinstance(v, str) for v in y.tolist())
    classes_are_text = classes.dtype.kind in "USO" and all(isinstance(c, str) for c in classes.tolist())
    if y_is_text and not classes_are_text:
        return emotion_codes(y)
    if classes_are_text and not y_is_text and y.dtype.kind in "iuf":
        codes = y.astype(np.int64)
        if codes.min() >= 0 and codes.max() < len(EMOTIONS):
            return np.array(EMOTIONS, dtype=object)[codes]
    return y


def class_names(classes):
    """Display names of the classes: emotion names for FER2013 codes, else the labels."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iu" and classes.min() >= 0 and classes.max() < len(EMOTIONS):
        return [EMOTIONS[int(c)] for c in classes]
    return [str(c) for c in classes]


def _estimator_history(estimator):
    """The per-epoch history of a skorch net or of a pipeline ending in one, or None."""
    net = estimator[-1] if hasattr(estimator, "steps") else estimator
    history = getattr(net, "history_", None)
    if history is None:
        return None
    return [{key: _plain(epoch[key]) for key in _HISTORY_KEYS if key in epoch}
            for epoch in history]


def _plain(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    return value


def _display_images(X, indices):
    """Grayscale copies of the images at ``indices``, for the misclassified grid."""
    images = check_images(np.asarray(X)[indices])
    if images.ndim == 4:
        images = images[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return images


# ---------------------------------------------------------------------- evaluate
def evaluate(estimator, X, y, *, n_bins=15):
    """Evaluate a fitted classifier on labelled face images.

    Parameters
    ----------
    estimator : fitted classifier
        Anything with ``predict_proba`` and ``classes_``: an
        :class:`~fer_sklearn.EmotionClassifier`, the pipeline of
        :func:`~fer_sklearn.make_emotion_pipeline`, a grid search...
    X : array-like of images
        The images, in whatever form the estimator takes.
    y : array-like of shape (n_samples,)
        Their labels: the kind of labels the model was fitted on, or emotion
        names for a model fitted on FER2013 codes and vice versa.
    n_bins : int, default=15
        Confidence bins of the calibration error and reliability diagram.

    Returns
    -------
    report : EvaluationReport
        The metrics, confusion matrices, calibration, the most confident
        mistakes and, for a skorch model, the training history.

    Raises
    ------
    TypeError
        If ``estimator`` has no ``predict_proba``.
    ValueError
        If ``y`` holds labels the model does not know or does not match ``X``.

    Examples
    --------
    >>> from fer_sklearn import make_emotion_pipeline, make_faces
    >>> from fer_sklearn.evaluation import evaluate
    >>> X, y = make_faces(140, size=24, random_state=0)
    >>> model = make_emotion_pipeline(max_epochs=1, module__width=4, random_state=0).fit(X, y)
    >>> report = evaluate(model, X, y)
    >>> 0 <= report.accuracy <= 1
    True
    """
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(
            f"estimator must be a fitted classifier with predict_proba, got {type(estimator).__name__}"
        )
    check_is_fitted(estimator)
    _check_n_bins(n_bins)
    classes = np.asarray(estimator.classes_)
    n_images = len(X) if hasattr(X, "__len__") else len(np.asarray(X))
    y = check_labels(y, n_images)
    y_index = _label_indices(y, classes)
    proba = _check_proba(estimator.predict_proba(X), len(y_index))
    pred_index = proba.argmax(axis=1)
    columns = np.arange(len(classes))
    names = class_names(classes)

    errors = np.flatnonzero(pred_index != y_index)
    worst = errors[np.argsort(-proba[errors, pred_index[errors]], kind="stable")][:_N_MISCLASSIFIED]
    misclassified = {
        "index": worst,
        "images": _display_images(X, worst) if len(worst) else np.empty((0, 1, 1), np.float32),
        "true": y_index[worst],
        "pred": pred_index[worst],
        "confidence": proba[worst, pred_index[worst]],
    }
    counts = confusion_matrix(y_index, pred_index, labels=columns)
    return EvaluationReport(
        class_names=names,
        n_samples=len(y_index),
        accuracy=float(accuracy_score(y_index, pred_index)),
        balanced_accuracy=float(_balanced_accuracy(y_index, pred_index)),
        f1_macro=float(f1_score(y_index, pred_index, labels=columns, average="macro", zero_division=0)),
        f1_weighted=float(f1_score(y_index, pred_index, labels=columns, average="weighted",
                                   zero_division=0)),
        top2_accuracy=_top_k_accuracy(y_index, proba, k=2),
        log_loss=float(log_loss(y_index, _renormalised(proba), labels=columns)),
        ece=expected_calibration_error(y_index, proba, n_bins=n_bins),
        per_class=classification_report(y_index, pred_index, labels=columns, target_names=names,
                                        output_dict=True, zero_division=0),
        confusion=counts,
        reliability=reliability_bins(y_index, proba, n_bins=n_bins),
        y_true=y_index,
        y_pred=pred_index,
        proba=proba,
        misclassified=misclassified,
        history=_estimator_history(estimator),
        model=type(estimator).__name__,
    )


def _top_k_accuracy(y_index, proba, k):
    # sklearn's top_k_accuracy_score wants 1-d scores for two classes; count ranks directly
    true_score = proba[np.arange(len(y_index)), y_index]
    return float(np.mean((proba > true_score[:, None]).sum(axis=1) < k))


def _renormalised(proba):
    # float32 network outputs sum to 1 only up to rounding, which log_loss warns about
    proba = np.clip(proba, 1e-15, 1)
    return proba / proba.sum(axis=1, keepdims=True)


def _balanced_accuracy(y_true, y_pred):
    # sklearn warns when a class is absent from y_true; average over the classes present
    present = np.unique(y_true)
    recalls = [np.mean(y_pred[y_true == c] == c) for c in present]
    return np.mean(recalls) if len(present) > 1 else balanced_accuracy_score(y_true, y_pred)


# ---------------------------------------------------------------------- the report
class EvaluationReport:
    """Metrics of a classifier on a labelled data set; made by :func:`evaluate`.

    Attributes
    ----------
    class_names : list of str
        The classes, in the model's column order (emotion names for FER2013 codes).
    n_samples : int
        Number of images evaluated.
    accuracy, balanced_accuracy, f1_macro, f1_weighted, top2_accuracy, log_loss, ece : float
        The summary metrics; ``ece`` is the expected calibration error.
    per_class : dict
        scikit-learn's ``classification_report(output_dict=True)``: precision,
        recall, F1 and support per class name, and the averages.
    confusion_matrix : ndarray of int, shape (n_classes, n_classes)
        Counts; rows are the true classes, columns the predictions.
    confusion_matrix_normalized : ndarray of float
        Each row divided by its total (the recall of each class on the diagonal);
        a row without samples is 0.
    reliability : dict
        The confidence bins of the reliability diagram (``edges``, ``count``,
        ``confidence``, ``accuracy``).
    y_true, y_pred : ndarray of int
        True and predicted class of each image, as column indices.
    proba : ndarray of shape (n_samples, n_classes)
        The predicted probabilities.
    misclassified : dict
        The most confident mistakes: ``index``, ``images``, ``true``, ``pred``,
        ``confidence``.
    history : list of dict or None
        Per-epoch training history of a skorch model.
    model : str
        The estimator's class name.
    """

    def __init__(self, *, class_names, n_samples, accuracy, balanced_accuracy, f1_macro,
                 f1_weighted, top2_accuracy, log_loss, ece, per_class, confusion, reliability,
                 y_true, y_pred, proba, misclassified, history=None, model=None):
        self.class_names = list(class_names)
        self.n_samples = n_samples
        self.accuracy = accuracy
        self.balanced_accuracy = balanced_accuracy
        self.f1_macro = f1_macro
        self.f1_weighted = f1_weighted
        self.top2_accuracy = top2_accuracy
        self.log_loss = log_loss
        self.ece = ece
        self.per_class = per_class
        self.confusion_matrix = np.asarray(confusion)
        totals = self.confusion_matrix.sum(axis=1, keepdims=True)
        self.confusion_matrix_normalized = np.divide(
            self.confusion_matrix, totals, out=np.zeros(self.confusion_matrix.shape), where=totals > 0
        )
        self.reliability = reliability
        self.y_true = y_true
        self.y_pred = y_pred
        self.proba = proba
        self.misclassified = misclassified
        self.history = history
        self.model = model

    def __repr__(self):
        return (f"EvaluationReport(n_samples={self.n_samples}, accuracy={self.accuracy:.4f}, "
                f"f1_macro={self.f1_macro:.4f}, log_loss={self.log_loss:.4f})")

    # ------------------------------------------------------------------ export
    def summary(self):
        """The summary metrics as a ``{name: value}`` dict."""
        return {key: getattr(self, key) for key, _ in _SUMMARY}

    def to_dict(self):
        """The report as JSON-ready Python types (no per-image arrays).

        Returns
        -------
        report : dict
            ``model``, ``n_samples``, ``classes``, ``metrics`` (the summary),
            ``per_class``, ``confusion_matrix``, ``confusion_matrix_normalized``,
            ``reliability`` and ``history``.
        """
        bins = self.reliability
        return {
            "model": self.model,
            "n_samples": int(self.n_samples),
            "classes": list(self.class_names),
            "metrics": {key: _finite(value) for key, value in self.summary().items()},
            "per_class": {name: ({k: _finite(v) for k, v in row.items()} if isinstance(row, dict)
                                 else _finite(row))
                          for name, row in self.per_class.items()},
            "confusion_matrix": self.confusion_matrix.astype(int).tolist(),
            "confusion_matrix_normalized": np.round(self.confusion_matrix_normalized, 6).tolist(),
            "reliability": {
                "edges": bins["edges"].tolist(),
                "count": bins["count"].astype(int).tolist(),
                "confidence": [_finite(v) for v in bins["confidence"]],
                "accuracy": [_finite(v) for v in bins["accuracy"]],
            },
            "history": self.history,
        }

    def to_json(self, indent=2):
        """The report of :meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent)

    def to_markdown(self, *, images=None):
        """The report as a Markdown document.

        Parameters
        ----------
        images : dict of {str: str}, default=None
            Chart titles and the paths to link them from (``save`` fills this in).

        Returns
        -------
        markdown : str
        """
        lines = [f"# Evaluation report", "",
                 f"{self.model or 'Model'} on {self.n_samples} images, {len(self.class_names)} classes.",
                 "", "## Summary", "", "| Metric | Value |", "|---|---:|"]
        lines += [f"| {label} | {_fmt(getattr(self, key))} |" for key, label in _SUMMARY]
        lines += ["", "## Per class", "", "| Class | Precision | Recall | F1 | Support |",
                  "|---|---:|---:|---:|---:|"]
        for name, row in self._per_class_rows():
            lines.append(f"| {name} | {_fmt(row['precision'])} | {_fmt(row['recall'])} | "
                         f"{_fmt(row['f1-score'])} | {int(row['support'])} |")
        lines += ["", "## Confusion matrix", "", "Rows: true class; columns: predicted class.", "",
                  "| true \\ predicted | " + " | ".join(self.class_names) + " |",
                  "|---|" + "---:|" * len(self.class_names)]
        for name, row in zip(self.class_names, self.confusion_matrix):
            lines.append(f"| **{name}** | " + " | ".join(str(int(v)) for v in row) + " |")
        for title, path in (images or {}).items():
            lines += ["", f"## {title}", "", f"![{title}]({path})"]
        return "\n".join(lines) + "\n"

    def to_html(self, *, figures=None):
        """The report as one self-contained HTML page, charts embedded as base64 PNG.

        Parameters
        ----------
        figures : dict of {str: matplotlib.figure.Figure}, default=None
            Charts to embed; None draws the standard ones (:meth:`figures`).

        Returns
        -------
        html : str
        """
        if figures is None:
            figures = self.figures()
        summary = "".join(f"<tr><th>{label}</th><td>{_fmt(getattr(self, key))}</td></tr>"
                          for key, label in _SUMMARY)
        per_class = "".join(
            f"<tr><th>{html.escape(name)}</th><td>{_fmt(row['precision'])}</td>"
            f"<td>{_fmt(row['recall'])}</td><td>{_fmt(row['f1-score'])}</td>"
            f"<td>{int(row['support'])}</td></tr>" for name, row in self._per_class_rows())
        charts = "".join(
            f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{_png_base64(fig)}">'
            f"<figcaption>{html.escape(title)}</figcaption></figure>" for title, fig in figures.items())
        return _HTML.format(
            title="Evaluation report",
            intro=html.escape(f"{self.model or 'Model'} on {self.n_samples} images, "
                              f"{len(self.class_names)} classes."),
            summary=summary, per_class=per_class, charts=charts)

    def _per_class_rows(self):
        rows = [(name, self.per_class[name]) for name in self.class_names]
        rows += [(name, self.per_class[name]) for name in ("macro avg", "weighted avg")
                 if name in self.per_class]
        return rows

    def figures(self):
        """Draw the report's charts.

        Returns
        -------
        figures : dict of {str: matplotlib.figure.Figure}
            Learning curves (when there is a history), the confusion matrix,
            per-class metrics, the reliability diagram and the most confident
            mistakes (when there are any).
        """
        from ._plots import (plot_confusion_matrix, plot_learning_curves, plot_misclassified,
                             plot_per_class_metrics, plot_reliability_diagram)

        figures = {}
        if self.history:
            figures["Learning curves"] = plot_learning_curves(self.history)
        figures["Confusion matrix"] = plot_confusion_matrix(self)
        figures["Per-class metrics"] = plot_per_class_metrics(self)
        figures["Reliability diagram"] = plot_reliability_diagram(self)
        if len(self.misclassified["index"]):
            figures["Most confident mistakes"] = plot_misclassified(self)
        return figures

    def save(self, directory):
        """Write the report and its charts into ``directory`` (created if needed).

        Writes ``metrics.json``, ``report.md``, ``report.html`` (self-contained,
        charts embedded) and one PNG per chart: ``learning_curves.png`` (with a
        history), ``confusion_matrix.png``, ``per_class_metrics.png``,
        ``reliability_diagram.png`` and ``misclassified.png`` (with mistakes).

        Parameters
        ----------
        directory : str or path-like
            The output folder.

        Returns
        -------
        paths : dict of {str: pathlib.Path}
            The written files by name (``"metrics.json"``, ``"report.html"``...).
        """
        import matplotlib.pyplot as plt

        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"{directory} exists and is not a folder")
        directory.mkdir(parents=True, exist_ok=True)
        figures = self.figures()
        paths = {}
        try:
            images = {}
            for title, fig in figures.items():
                name = _PNG_NAMES[title]
                fig.savefig(directory / name, dpi=150, bbox_inches="tight")
                paths[name] = directory / name
                images[title] = name
            paths["metrics.json"] = directory / "metrics.json"
            paths["metrics.json"].write_text(self.to_json() + "\n", encoding="utf-8")
            paths["report.md"] = directory / "report.md"
            paths["report.md"].write_text(self.to_markdown(images=images), encoding="utf-8")
            paths["report.html"] = directory / "report.html"
            paths["report.html"].write_text(self.to_html(figures=figures), encoding="utf-8")
        finally:
            for fig in figures.values():
                plt.close(fig)
        return paths


_PNG_NAMES = {
    "Learning curves": "learning_curves.png",
    "Confusion matrix": "confusion_matrix.png",
    "Per-class metrics": "per_class_metrics.png",
    "Reliability diagram": "reliability_diagram.png",
    "Most confident mistakes": "misclassified.png",
}


def _finite(value):
    value = _plain(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _fmt(value):
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.4f}"


def _png_base64(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 980px;
       margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ padding: 0.3em 0.9em; border-bottom: 1px solid #ddd; }}
td {{ text-align: right; font-variant-numeric: tabular-nums; }}
th {{ text-align: left; font-weight: 600; }}
figure {{ margin: 2em 0; }}
figure img {{ max-width: 100%; }}
figcaption {{ color: #555; font-size: 0.9em; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{intro}</p>
<h2>Summary</h2>
<table>{summary}</table>
<h2>Per class</h2>
<table><tr><th>Class</th><th>Precision</th><th>Recall</th><th>F1</th><th>Support</th></tr>
{per_class}</table>
<h2>Charts</h2>
{charts}
</body>
</html>
"""

"""evaluate and EvaluationReport: the metrics of a fitted emotion classifier on labelled images."""

import json
from dataclasses import InitVar, dataclass, field

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..preprocessing import Grayscale
from ..utils import check_images, check_labels
from ._export import report_dict, report_html, report_markdown, save_report
from ._learning_curves import estimator_history, plot_learning_curves
from ._metrics import (
    SUMMARY_METRICS,
    check_n_bins,
    check_proba,
    class_names,
    classification_metrics,
    label_indices,
)
from ._plots import (
    plot_confusion_matrix,
    plot_misclassified,
    plot_per_class_metrics,
    plot_reliability_diagram,
)
from ._provenance import provenance
from ._saliency import (
    check_explain,
    plot_misclassified_saliency,
    plot_saliency_per_class,
    report_saliency,
)

_N_MISCLASSIFIED = 24


def evaluate(estimator, X, y, *, n_bins=15, data=None, explain=False):
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
    data : str, default=None
        What the images are (file, split, number), for the report's
        provenance; the command line fills it in.
    explain : bool or str, default=False
        Also map where the evidence lies (:func:`~fer_sklearn.explain`; a
        string names its method): the mean map per true class and the maps
        of the most confident mistakes, two more charts.

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
    >>> model = make_emotion_pipeline(max_epochs=1, module__width=4, random_state=0,
    ...                               verbose=0).fit(X, y)
    >>> report = evaluate(model, X, y)
    >>> 0 <= report.accuracy <= 1
    True
    """
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(
            "estimator must be a fitted classifier with predict_proba, got "
            f"{type(estimator).__name__}"
        )
    check_is_fitted(estimator)
    check_n_bins(n_bins)
    method = check_explain(explain)
    classes = np.asarray(estimator.classes_)
    n_images = len(X) if hasattr(X, "__len__") else len(np.asarray(X))
    y_index = label_indices(check_labels(y, n_images), classes)
    proba = check_proba(estimator.predict_proba(X), y_index)
    names = class_names(classes)
    mistakes = _most_confident_mistakes(X, y_index, proba)
    return EvaluationReport(
        class_names=names,
        n_samples=len(y_index),
        **classification_metrics(y_index, proba, names, n_bins=n_bins),
        y_true=y_index,
        y_pred=proba.argmax(axis=1),
        proba=proba,
        misclassified=mistakes,
        saliency=report_saliency(estimator, X, y_index, mistakes, method),
        history=estimator_history(estimator),
        model=type(estimator).__name__,
        provenance=provenance(estimator, data, len(y_index)),
    )


def _most_confident_mistakes(X, y_index, proba):
    pred = proba.argmax(axis=1)
    errors = np.flatnonzero(pred != y_index)
    worst = errors[np.argsort(-proba[errors, pred[errors]], kind="stable")][:_N_MISCLASSIFIED]
    if len(worst):
        # grayscale copies for the grid of plot_misclassified
        images = Grayscale().fit_transform(check_images(np.asarray(X)[worst]))
    else:
        images = np.empty((0, 1, 1), np.float32)
    return {"index": worst, "images": images, "true": y_index[worst], "pred": pred[worst],
            "confidence": proba[worst, pred[worst]]}


@dataclass(kw_only=True, eq=False, repr=False)
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
    provenance : dict
        What was evaluated: ``data``, ``n_images``, ``model`` (class, network
        and main settings), ``date`` and ``versions``.
    saliency : dict or None
        With ``evaluate(..., explain=True)``: ``method``, ``mean_by_class`` and
        ``mean_face_by_class`` (a mean map and face per true class),
        ``count_by_class``, and ``misclassified``, the map of each most
        confident mistake for the class it was mistaken for.
    """

    class_names: list
    n_samples: int
    accuracy: float
    balanced_accuracy: float
    f1_macro: float
    f1_weighted: float
    top2_accuracy: float
    log_loss: float
    ece: float
    per_class: dict
    confusion: InitVar[np.ndarray]
    reliability: dict
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray
    misclassified: dict
    history: list | None = None
    model: str | None = None
    provenance: dict = field(default_factory=dict)
    saliency: dict | None = None
    confusion_matrix: np.ndarray = field(init=False)
    confusion_matrix_normalized: np.ndarray = field(init=False)

    def __post_init__(self, confusion):
        self.class_names = list(self.class_names)
        self.confusion_matrix = np.asarray(confusion)
        totals = self.confusion_matrix.sum(axis=1, keepdims=True)
        self.confusion_matrix_normalized = np.divide(
            self.confusion_matrix, totals, out=np.zeros(self.confusion_matrix.shape),
            where=totals > 0
        )

    def __repr__(self):
        return (f"EvaluationReport(n_samples={self.n_samples}, accuracy={self.accuracy:.4f}, "
                f"f1_macro={self.f1_macro:.4f}, log_loss={self.log_loss:.4f})")

    def summary(self):
        """Collect the summary metrics.

        Returns
        -------
        summary : dict of {str: float}
            Accuracy, macro F1 and the others, by name.
        """
        return {key: getattr(self, key) for key, _ in SUMMARY_METRICS}

    def to_dict(self):
        """The report as JSON-ready Python types (no per-image arrays).

        Returns
        -------
        report : dict
            ``model``, ``n_samples``, ``classes``, ``metrics`` (the summary),
            ``per_class``, ``confusion_matrix``, ``confusion_matrix_normalized``,
            ``reliability`` and ``history``; NaN and infinite values are None.
        """
        return report_dict(self)

    def to_json(self, indent=2):
        """Write the report of :meth:`to_dict` as a JSON string.

        Parameters
        ----------
        indent : int, default=2
            As ``json.dumps``.

        Returns
        -------
        text : str
            The JSON document.
        """
        return json.dumps(self.to_dict(), indent=indent)

    def to_markdown(self, *, images=None):
        """The report as a Markdown document, its tables written by pandas.

        Parameters
        ----------
        images : dict of {str: str}, default=None
            Chart titles and the paths to link them from (``save`` fills this in).

        Returns
        -------
        markdown : str
            The document, tables as Markdown pipe tables.
        """
        return report_markdown(self, images)

    def to_html(self, *, figures=None):
        """The report as one self-contained HTML page, charts embedded as base64 PNG.

        Parameters
        ----------
        figures : dict of {str: matplotlib.figure.Figure}, default=None
            Charts to embed; None draws the standard ones (:meth:`figures`).

        Returns
        -------
        html : str
            The page, readable offline.
        """
        return report_html(self, self.figures() if figures is None else figures)

    def figures(self):
        """Draw the report's charts.

        Returns
        -------
        figures : dict of {str: matplotlib.figure.Figure}
            Learning curves (when there is a history), the confusion matrix,
            the saliency charts (with maps), per-class metrics, the reliability
            diagram and the most confident mistakes (when there are any).
        """
        figures = {}
        if self.history:
            figures["Learning curves"] = plot_learning_curves(self.history)
        figures["Confusion matrix"] = plot_confusion_matrix(self)
        if self.saliency is not None:
            figures["Saliency per class"] = plot_saliency_per_class(self)
            if len(self.misclassified["index"]):
                figures["Most confident mistakes, explained"] = plot_misclassified_saliency(self)
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
        return save_report(self, directory)

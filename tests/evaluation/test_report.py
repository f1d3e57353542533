"""Tests of fer_sklearn.evaluation: evaluate, EvaluationReport and the calibration error."""

import json
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

from fer_sklearn import EMOTIONS, make_emotion_pipeline, make_faces
from fer_sklearn.evaluation import (
    EvaluationReport,
    evaluate,
    expected_calibration_error,
    plot_misclassified,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    return make_faces(210, size=24, random_state=0)


@pytest.fixture(scope="module")
def model(data):
    X, y = data
    pipe = make_emotion_pipeline(max_epochs=2, module__width=4, random_state=0)
    pipe.set_params(resize__size=24)
    return pipe.fit(X, y)


@pytest.fixture(scope="module")
def report(model, data):
    return evaluate(model, *data)


class _Fixed(ClassifierMixin, BaseEstimator):
    """A fitted 'classifier' returning fixed probabilities."""

    def __init__(self, proba, classes):
        self.proba, self.classes_ = np.asarray(proba, dtype=float), np.asarray(classes)

    def __sklearn_is_fitted__(self):
        return True

    def fit(self, X, y):
        return self

    def predict_proba(self, X):
        return self.proba[: len(X)]


def test_metrics_match_sklearn(report, model, data):
    from sklearn.metrics import accuracy_score, f1_score, log_loss, top_k_accuracy_score

    X, y = data
    proba = model.predict_proba(X)
    assert report.n_samples == 210
    assert report.accuracy == pytest.approx(accuracy_score(y, model.predict(X)))
    assert report.f1_macro == pytest.approx(f1_score(y, model.predict(X), average="macro"))
    assert report.log_loss == pytest.approx(log_loss(y, proba / proba.sum(1, keepdims=True)),
                                            rel=1e-4)
    assert report.top2_accuracy == pytest.approx(top_k_accuracy_score(y, proba, k=2))
    assert report.ece == pytest.approx(expected_calibration_error(y, proba, classes=model.classes_))
    assert report.class_names == list(EMOTIONS)


def test_confusion_matrix_raw_and_normalised(report):
    cm = report.confusion_matrix
    assert cm.shape == (7, 7) and cm.sum() == 210
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(report.y_true, minlength=7))
    np.testing.assert_allclose(report.confusion_matrix_normalized.sum(axis=1), 1.0)
    assert report.per_class["happy"]["support"] == 30


def test_known_values_on_fixed_predictions():
    proba = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]]
    rep = evaluate(_Fixed(proba, ["no", "yes"]), np.zeros((4, 8, 8)), ["no", "yes", "yes", "yes"])
    assert rep.accuracy == 0.5
    assert rep.balanced_accuracy == pytest.approx((1 + 1 / 3) / 2)
    assert rep.top2_accuracy == 1.0
    assert rep.confusion_matrix.tolist() == [[1, 0], [2, 1]]
    assert rep.class_names == ["no", "yes"]
    # the most confident mistake comes first
    assert rep.misclassified["index"].tolist() == [1, 3]


def test_expected_calibration_error_known_value():
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    # bins: 0.7 -> correct, 0.8 -> wrong, 0.9 -> correct (10 bins)
    expected = (abs(1 - 0.7) + abs(0 - 0.8) + abs(1 - 0.9)) / 3
    assert expected_calibration_error([0, 1, 1], proba, n_bins=10) == pytest.approx(expected)
    assert expected_calibration_error(["a", "b", "b"], proba, classes=["a", "b"], n_bins=10) == \
        pytest.approx(expected)
    perfect = np.eye(3)
    assert expected_calibration_error([0, 1, 2], perfect) == 0.0


@pytest.mark.parametrize("y, proba, kwargs, error, match", [
    ([0, 1], [[0.5, 0.5], [0.2, 0.8]], {"n_bins": 0}, ValueError, "n_bins == 0, must be >= 1"),
    ([0, 1], [[0.5, 0.5], [0.2, 0.8]], {"n_bins": 2.5}, TypeError, "n_bins must be an instance of"),
    (["x", "y"], [[0.5, 0.5], [0.2, 0.8]], {"classes": ["a", "b"]}, ValueError, "does not know"),
    (["x", "y"], [[0.5, 0.5], [0.2, 0.8]], {}, ValueError, "must hold column indices"),
    ([0, 1], [[0.5, 0.5]], {}, ValueError, "inconsistent numbers of samples"),
    ([0, 1], [[0.5, 0.5], [np.nan, 0.5]], {}, ValueError, "proba contains NaN"),
    ([0, 1], [[1.5, -0.5], [0.5, 0.5]], {}, ValueError, r"probabilities in \[0, 1\]"),
    ([0], [[1.0]], {}, ValueError, "n_classes >= 2"),
])
def test_expected_calibration_error_rejects_bad_input(y, proba, kwargs, error, match):
    with pytest.raises(error, match=match):
        expected_calibration_error(y, proba, **kwargs)


def test_balanced_accuracy_ignores_predicted_classes_missing_from_y():
    # class 2 is predicted but absent from y: the mean recall is over classes 0 and 1, silently
    proba = [[0.8, 0.1, 0.1], [0.15, 0.05, 0.8], [0.1, 0.8, 0.1], [0.15, 0.05, 0.8]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = evaluate(_Fixed(proba, [0, 1, 2]), np.zeros((4, 8, 8)), [0, 0, 1, 1])
    assert rep.balanced_accuracy == pytest.approx((0.5 + 0.5) / 2)
    # the true class second in row 1, third in row 3
    assert rep.top2_accuracy == pytest.approx(0.75)


def test_emotion_names_accepted_for_a_model_fitted_on_codes(model, data, report):
    X, y = data
    named = evaluate(model, X, np.array(EMOTIONS)[y])
    assert named.accuracy == report.accuracy


def test_evaluate_rejects_bad_input(model, data):
    X, y = data
    with pytest.raises(TypeError, match="predict_proba"):
        evaluate(object(), X, y)
    with pytest.raises(ValueError, match="does not know"):
        evaluate(model, X[:2], [0, 9])
    with pytest.raises(ValueError, match="different lengths"):
        evaluate(model, X, y[:5])
    with pytest.raises(ValueError, match="unknown emotion name"):
        evaluate(model, X[:1], ["grumpy"])


def test_unfitted_model_is_rejected(data):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        evaluate(make_emotion_pipeline(), *data)


def test_to_dict_is_json_ready(report):
    d = json.loads(report.to_json())
    assert d["metrics"]["accuracy"] == pytest.approx(report.accuracy)
    assert d["classes"] == list(EMOTIONS)
    assert np.array(d["confusion_matrix"]).sum() == 210
    assert set(d["per_class"]) >= set(EMOTIONS) | {"macro avg", "weighted avg"}
    assert len(d["history"]) == 2 and "valid_loss" in d["history"][0]
    assert sum(d["reliability"]["count"]) == 210


def _table_rows(markdown):
    return [[cell.strip() for cell in line.split("|")[1:-1]]
            for line in markdown.splitlines() if line.startswith("|")]


def test_markdown_has_tables(report):
    md = report.to_markdown(images={"Confusion matrix": "cm.png"})
    assert md.startswith("# Evaluation report")
    rows = _table_rows(md)
    assert ["Accuracy", f"{report.accuracy:.4f}"] in rows
    happy = report.per_class["happy"]
    assert ["happy", f"{happy['precision']:.4f}", f"{happy['recall']:.4f}",
            f"{happy['f1-score']:.4f}", "30"] in rows
    assert ["neutral", *map(str, report.confusion_matrix[6])] in rows
    assert md.rstrip().endswith("![Confusion matrix](cm.png)")


def test_html_has_tables_and_escapes_names(tmp_path):
    rep = evaluate(_Fixed(np.eye(2), ["<b>", "ok"]), np.zeros((2, 8, 8)), ["<b>", "ok"])
    page = rep.to_html(figures={})
    assert "<td>1.0000</td>" in page and "&lt;b&gt;" in page and "<b>" not in page
    assert page.count("<table") == 4  # provenance, summary, per class, confusion matrix


def test_save_writes_all_files(report, tmp_path):
    paths = report.save(tmp_path / "out")
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert names == {"metrics.json", "report.md", "report.html", "learning_curves.png",
                     "confusion_matrix.png", "per_class_metrics.png", "reliability_diagram.png",
                     "misclassified.png"}
    assert paths["report.html"] == tmp_path / "out" / "report.html"
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 5
    assert "src=\"http" not in html and "<script" not in html  # readable offline
    assert "![Confusion matrix](confusion_matrix.png)" in (
        tmp_path / "out" / "report.md").read_text()
    for name in names - {"metrics.json", "report.md", "report.html"}:
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_refuses_a_file_as_directory(report, tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        report.save(target)


def test_report_without_history_or_mistakes(tmp_path):
    rep = evaluate(_Fixed(np.eye(2), [0, 1]), np.zeros((2, 8, 8)), [0, 1])
    assert rep.history is None and rep.accuracy == 1.0
    rep.save(tmp_path)
    assert not (tmp_path / "learning_curves.png").exists()
    assert not (tmp_path / "misclassified.png").exists()
    assert isinstance(rep, EvaluationReport) and "accuracy=1.0000" in repr(rep)
    fig = plot_misclassified(rep)
    assert [t.get_text() for t in fig.axes[0].texts] == ["No misclassified images"]
    plt.close(fig)


def test_reports_say_what_was_evaluated_by_what(model, data, tmp_path):
    X, y = data
    report = evaluate(model, X, y, data="210 synthetic test faces")
    record = report.provenance
    assert record["data"] == "210 synthetic test faces" and record["n_images"] == len(y)
    assert record["model"]["network"] == "EmotionCNN" and record["model"]["network_parameters"] > 0
    assert record["model"]["module__width"] == model[-1].module__width
    assert record["versions"]["fer_sklearn"] and record["date"][:4].isdigit()
    paths = report.save(tmp_path / "out")
    page = paths["report.html"].read_text()
    assert "210 synthetic test faces" in page and "Provenance" in page
    assert json.loads(paths["metrics.json"].read_text())["provenance"]["n_images"] == len(y)
    assert "| Data" in paths["report.md"].read_text()
    assert evaluate(model, X, y).provenance["data"] == "images passed to evaluate()"


def test_html_provenance_has_one_header_row_and_the_machine(report):
    page = report.to_html(figures={})
    provenance = page[page.index("<table"):page.index("</table>")]
    head = provenance[provenance.index("<thead>"):provenance.index("</thead>")]
    # the index name sits in the header's corner, not a row of its own
    assert head.count("<tr") == 1
    machine = report.provenance["machine"]
    assert machine["cpu_count"] >= 1 and machine["cpu_model"] in provenance
    assert "Machine: isa" in provenance

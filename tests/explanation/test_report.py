"""The evaluation report with saliency maps: the mean map per true class and the maps of the
most confident mistakes, beside the confusion matrix; ``fer-sklearn evaluate --explain``.
Without ``explain`` the report is as it was."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from fer_sklearn import explain  # noqa: E402
from fer_sklearn.cli import main  # noqa: E402
from fer_sklearn.evaluation import (  # noqa: E402
    evaluate,
    plot_misclassified_saliency,
    plot_saliency_per_class,
)


@pytest.fixture(scope="module")
def report(shipped, drawn_faces):
    X, y = drawn_faces
    return evaluate(shipped["fast"], X, y, explain=True)


def test_the_mean_map_of_each_true_class(report, shipped, drawn_faces):
    X, y = drawn_faces
    saliency = report.saliency
    assert saliency["method"] == "layercam"
    assert saliency["mean_by_class"].shape == (7, 48, 48)
    classes = list(shipped["fast"].classes_)
    assert saliency["count_by_class"].tolist() == [int((y == e).sum()) for e in classes]
    happy = classes.index("happy")
    maps = explain(shipped["fast"], X[y == "happy"], target="happy")
    np.testing.assert_allclose(saliency["mean_by_class"][happy], maps.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(saliency["mean_face_by_class"][happy],
                               X[y == "happy"].mean(axis=0), atol=1e-3)


def test_each_mistake_is_explained_for_the_class_it_was_taken_for(report, shipped, drawn_faces):
    X, _ = drawn_faces
    mistakes = report.misclassified
    assert len(mistakes["index"]) >= 1
    chosen = np.asarray(shipped["fast"].classes_)[mistakes["pred"]]
    np.testing.assert_allclose(report.saliency["misclassified"],
                               explain(shipped["fast"], X[mistakes["index"]], target=chosen),
                               atol=1e-6)


def test_the_charts_follow_the_confusion_matrix(report, tmp_path):
    titles = list(report.figures())
    at = titles.index("Confusion matrix")
    assert titles[at + 1:at + 3] == ["Saliency per class", "Most confident mistakes, explained"]
    paths = report.save(tmp_path)
    for name in ("saliency_per_class.png", "misclassified_saliency.png"):
        assert Image.open(paths[name]).size[0] > 300
    assert "![Saliency per class](saliency_per_class.png)" in paths["report.md"].read_text()
    fig, ax = plt.subplots()
    assert plot_saliency_per_class(report, ax=ax) is fig
    assert len(ax.child_axes) == 7
    plt.close("all")


def test_without_explain_nothing_changes(shipped, drawn_faces):
    X, y = drawn_faces
    plain = evaluate(shipped["fast"], X, y)
    assert plain.saliency is None and "Saliency per class" not in plain.figures()
    with pytest.raises(ValueError, match=r"evaluate\(model, X, y, explain=True\)"):
        plot_misclassified_saliency(plain)
    with pytest.raises(ValueError, match="explain must be True, False or one of"):
        evaluate(shipped["fast"], X, y, explain="lime")
    plt.close("all")


def test_cli_evaluate_explain(tmp_path, drawn_faces, capsys):
    X, y = drawn_faces
    for i, (face, label) in enumerate(zip(X, y)):
        (tmp_path / "faces" / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(face).save(tmp_path / "faces" / label / f"{i}.png")
    assert main(["evaluate", "--model", "fast", "--data", str(tmp_path / "faces"),
                 "--out", str(tmp_path / "out"), "--explain", "gradcam"]) == 0
    assert (tmp_path / "out" / "saliency_per_class.png").is_file()
    assert "Report written to" in capsys.readouterr().out

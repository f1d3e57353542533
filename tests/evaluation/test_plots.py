"""Tests of the evaluation charts."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from sklearn.dummy import DummyClassifier

from fer_sklearn import EMOTIONS, make_emotion_pipeline, make_faces
from fer_sklearn.evaluation import (
    evaluate,
    plot_confusion_matrix,
    plot_learning_curves,
    plot_misclassified,
    plot_per_class_metrics,
    plot_reliability_diagram,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model():
    X, y = make_faces(210, size=24, random_state=0)
    pipe = make_emotion_pipeline(max_epochs=2, module__width=4, random_state=0)
    return pipe.set_params(resize__size=24).fit(X, y)


@pytest.fixture(scope="module")
def report(model):
    return evaluate(model, *make_faces(70, size=24, random_state=1))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_learning_curves_from_estimator_and_history(model):
    fig = plot_learning_curves(model)
    loss_ax, acc_ax = fig.axes[0], fig.axes[1]
    assert loss_ax.get_xlabel() == "Epoch" and acc_ax.get_title() == "Accuracy"
    labels = [t.get_text() for t in loss_ax.get_legend().get_texts()]
    assert {"train", "validation", "learning rate"} <= set(labels)
    assert any(label.startswith("best epoch") for label in labels)
    # the learning rate has its own axis
    assert any(ax.get_ylabel() == "Learning rate" for ax in fig.axes)
    fig2 = plot_learning_curves(model[-1].history_)
    assert len(fig2.axes) == len(fig.axes)


def test_learning_curves_on_given_axes():
    history = [{"epoch": 1, "train_loss": 2.0},
               {"epoch": 2, "train_loss": 1.0, "train_loss_best": True}]
    fig, ax = plt.subplots()
    assert plot_learning_curves(history, ax=ax) is fig
    fig, axes = plt.subplots(1, 2)
    assert plot_learning_curves(history, ax=axes) is fig
    assert len(axes[0].get_lines()) >= 2  # train loss and the best-epoch marker


def test_learning_curves_bad_input():
    with pytest.raises(TypeError, match="plot_learning_curves expects"):
        plot_learning_curves("history")
    with pytest.raises(ValueError, match="no training history"):
        plot_learning_curves([])
    with pytest.raises(ValueError, match="no 'train_loss'"):
        plot_learning_curves([{"epoch": 1}])


def test_confusion_matrix_labels_and_counts(report):
    fig, ax = plt.subplots()
    assert plot_confusion_matrix(report, ax=ax) is fig
    assert [t.get_text() for t in ax.get_xticklabels()] == list(EMOTIONS)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(EMOTIONS)
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 49
    i, j = np.unravel_index(np.argmax(report.confusion_matrix), (7, 7))
    assert f"({report.confusion_matrix[i, j]})" in texts[i * 7 + j]
    assert ax.images[0].get_array().max() <= 1.0  # normalised colours
    assert ax.get_xlabel() == "Predicted emotion" and ax.get_ylabel() == "True emotion"


def test_confusion_matrix_of_counts(report):
    fig = plot_confusion_matrix(report, normalize=False)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == [str(v) for v in report.confusion_matrix.ravel()]
    assert ax.images[0].get_array().max() == report.confusion_matrix.max()
    assert fig.axes[1].get_ylabel() == "Images"  # the colour bar


def test_per_class_metrics_bars(report):
    fig = plot_per_class_metrics(report)
    ax = fig.axes[0]
    assert len(ax.patches) == 3 * 7
    heights = [p.get_height() for p in ax.patches[:7]]
    assert heights == pytest.approx([report.per_class[n]["precision"] for n in EMOTIONS])


def test_reliability_diagram(report):
    fig = plot_reliability_diagram(report)
    ax = fig.axes[0]
    assert f"{report.ece:.3f}" in ax.get_legend().get_title().get_text()
    bins = report.reliability
    filled = bins["count"] > 0
    (line,) = [line for line in ax.get_lines() if line.get_label() == "accuracy in bin"]
    np.testing.assert_allclose(line.get_xdata(), bins["confidence"][filled])
    np.testing.assert_allclose(line.get_ydata(), bins["accuracy"][filled])
    assert [t.get_text() for t in ax.texts] == [str(n) for n in bins["count"][filled]]


def test_misclassified_grid():
    # a prior-only model predicts "happy" for every face: its mistakes are known in advance
    X = np.random.default_rng(0).random((6, 8, 8))
    y = np.array([3, 3, 3, 3, 4, 0])
    rep = evaluate(DummyClassifier(strategy="prior").fit(X, y), X, y)
    insets = plot_misclassified(rep, n_images=4, n_cols=2).axes[0].child_axes
    assert [inset.get_title() for inset in insets] == ["true: sad\npred: happy (67%)",
                                                       "true: angry\npred: happy (67%)"]
    np.testing.assert_allclose(insets[0].images[0].get_array(), X[4], rtol=1e-6)
    assert len(plot_misclassified(rep, n_images=1).axes[0].child_axes) == 1


@pytest.mark.parametrize("plot", [plot_confusion_matrix, plot_per_class_metrics,
                                  plot_reliability_diagram, plot_misclassified])
def test_plots_reject_non_reports(plot):
    with pytest.raises(TypeError, match="expects an EvaluationReport"):
        plot(np.zeros((7, 7)))


def test_misclassified_rejects_bad_counts(report):
    with pytest.raises(ValueError, match="n_images == 0, must be >= 1"):
        plot_misclassified(report, n_images=0)
    with pytest.raises(TypeError, match="n_cols must be an instance of"):
        plot_misclassified(report, n_cols=2.5)


def test_percent_ticks_of_a_narrow_range_are_told_apart():
    history = [{"epoch": e, "train_loss": 1.0, "valid_loss": 1.0, "valid_acc": 0.22 + e / 1000}
               for e in range(1, 9)]
    fig = plot_learning_curves(history)
    fig.canvas.draw()
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels() if "%" in t.get_text()]
    assert labels and len(set(labels)) == len(labels), labels

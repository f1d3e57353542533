"""SaliencyDisplay: scikit-learn's Display conventions (from_estimator, plot, ax=, figure_),
the labels above each face and the map blended over it; overlay_saliency."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fer_sklearn import EMOTIONS, SaliencyDisplay, explain  # noqa: E402
from fer_sklearn.explanation import overlay_saliency  # noqa: E402


def test_from_estimator_draws_faces_maps_and_labels_on_the_given_axes(shipped, drawn_faces):
    X, y = drawn_faces
    model = shipped["fast"]
    fig, ax = plt.subplots()
    codes = [EMOTIONS.index(name) for name in y[:8]]  # FER2013 codes are read as names
    display = SaliencyDisplay.from_estimator(model, X[:8], codes, ax=ax, n_cols=4)
    assert display.figure_ is fig and display.ax_ is ax and len(display.axes_) == 8
    predicted = model.predict(X[:8])
    for inset, true, pred in zip(display.axes_, y[:8], predicted):
        assert inset.get_title() == f"pred: {pred}\ntrue: {true}"
        edge = inset.spines["top"].get_edgecolor()
        assert matplotlib.colors.to_hex(edge) == ("#d55e00" if true != pred else "#777777")
    # what is drawn is the face with its map blended over it
    shown = display.axes_[0].get_images()[0].get_array()
    np.testing.assert_array_equal(shown, overlay_saliency(X[0], explain(model, X[:1])[0]))
    plt.close(fig)


def test_a_chosen_target_is_named_and_explained(shipped, drawn_faces):
    X, _ = drawn_faces
    display = SaliencyDisplay.from_estimator(shipped["fast"], X[:3], target="surprise")
    assert all(inset.get_title().endswith("map: surprise") for inset in display.axes_)
    np.testing.assert_array_equal(display.saliency,
                                  explain(shipped["fast"], X[:3], target="surprise"))
    plt.close(display.figure_)


def test_plot_checks_that_maps_and_labels_fit_the_faces(drawn_faces):
    X, _ = drawn_faces
    with pytest.raises(ValueError, match="saliency has shape"):
        SaliencyDisplay(X[:3], np.zeros((2, 48, 48))).plot()
    with pytest.raises(ValueError, match="2 pred labels for 3 faces"):
        SaliencyDisplay(X[:3], np.zeros((3, 48, 48)), y_pred=["happy", "sad"]).plot()


def test_overlay_colours_the_relevant_pixels_only():
    face = np.full((10, 10), 100, np.uint8)
    saliency = np.zeros((10, 10))
    saliency[2:4, 2:4] = 2.0
    out = overlay_saliency(face, saliency, alpha=1.0)
    assert (out[saliency == 0] == 100).all()
    assert not (out[2:4, 2:4] == 100).all()
    with pytest.raises(ValueError, match="give a map of the image's size"):
        overlay_saliency(face, saliency[:5])

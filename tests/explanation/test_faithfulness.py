"""The maps on real faces (FER2013 PublicTest, from ../shared; skips without it): deleting the
pixels the default method marks hurts the shipped ``default`` model at least twice as much as
deleting a random square of the same area, and the maps pass the sanity checks of Adebayo
et al. (2018): they depend on the trained weights and on the class explained. About 15 s."""

import copy

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from fer_sklearn import explain, load_fer2013
from fer_sklearn.explanation import deletion_score

pytestmark = pytest.mark.fer2013


@pytest.fixture(scope="module")
def public_test(fer2013_csv):
    X, y = load_fer2013(fer2013_csv, usage="PublicTest", return_X_y=True)
    return X[:500].copy(), y[:500].copy()


def _rho(a, b):
    """The mean over faces of the Spearman rank correlation of two maps of each face."""
    return float(np.nanmean([spearmanr(x.ravel(), y.ravel())[0] for x, y in zip(a, b)]))


def test_deleting_the_relevant_pixels_beats_a_random_square_twofold(shipped, public_test):
    X, _ = public_test
    model = shipped["default"]
    result = deletion_score(model, X, explain(model, X), fraction=0.2, random_state=0)
    assert result.random_drop > 0.05  # the square does hurt: the ratio is not 0/0 noise
    assert result.ratio >= 2.0, result


def test_maps_depend_on_the_trained_weights(shipped, public_test):
    X, _ = public_test
    model = copy.deepcopy(shipped["default"]).set_params(clf__precision="32")
    faces, target = X[:200], model.predict(X[:200])
    trained = explain(model, faces, target=target)
    torch.manual_seed(0)
    for layer in model[-1].module_.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
        if hasattr(layer, "reset_running_stats"):
            layer.reset_running_stats()
    randomized = explain(model, faces, target=target)
    assert _rho(trained, randomized) < 0.5


def test_maps_depend_on_the_class_explained(shipped, public_test):
    X, _ = public_test
    model = shipped["default"]
    faces = X[:200]
    happy, angry = explain(model, faces, target="happy"), explain(model, faces, target="angry")
    assert _rho(happy, angry) < 0.9
    # and where each puts the most relevance differs on most faces
    peaks = [np.array(np.unravel_index(m.reshape(len(m), -1).argmax(axis=1), m.shape[1:]))
             for m in (happy, angry)]
    far = np.hypot(*(peaks[0] - peaks[1])) > 6
    assert far.mean() > 0.5

"""fer_sklearn.explain on every kind of model it takes: shapes, coordinates, targets, the
precision paths, ensembles, and the errors that say what to do. Tiny or shipped models on
synthetic faces; a few seconds."""

import copy

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from fer_sklearn import (
    EMOTIONS,
    EmotionClassifier,
    EnsembleCNN,
    explain,
    load_model,
    make_emotion_pipeline,
    save_model,
)
from fer_sklearn.explanation import METHODS


def _rho(a, b):
    return np.mean([spearmanr(x.ravel(), y.ravel())[0] for x, y in zip(a, b)])


def _coarse(maps, cell=4):
    """Mean of each cell x cell square: where a map is high, without the pixel-level detail
    that resizing a face changes."""
    n, h, w = maps.shape
    return maps.reshape(n, h // cell, cell, w // cell, cell).mean(axis=(2, 4))


@pytest.mark.parametrize("name", ["fast", "default", "accurate"])
def test_every_shipped_model_gets_a_map_per_face(shipped, drawn_faces, name):
    X, _ = drawn_faces
    maps = explain(shipped[name], X[:4])
    assert maps.shape == (4, 48, 48) and maps.dtype == np.float32
    assert maps.min() >= 0
    np.testing.assert_allclose(maps.max(axis=(1, 2)), 1.0)
    # a map, not a constant: it singles out part of the face
    assert (maps < 0.5).mean() > 0.2


def test_methods_differ_and_auto_is_layercam(shipped, drawn_faces):
    X, _ = drawn_faces
    model = shipped["fast"]
    layercam = explain(model, X, method="layercam")
    np.testing.assert_array_equal(explain(model, X), layercam)
    gradcam = explain(model, X, method="gradcam")
    assert not np.allclose(layercam, gradcam, atol=0.05)
    assert set(METHODS) == {"auto", "layercam", "gradcam", "occlusion"}


def test_maps_come_back_in_the_coordinates_of_the_faces(shipped, drawn_faces):
    X, _ = drawn_faces
    model = shipped["fast"]
    small = explain(model, X[:6], method="layercam")
    big = X[:6].repeat(2, axis=1).repeat(2, axis=2)  # the same faces at 96x96
    big_maps = explain(model, big, target=model.predict(X[:6]))
    assert big_maps.shape == (6, 96, 96)
    halved = big_maps.reshape(6, 48, 2, 48, 2).mean(axis=(2, 4))
    assert _rho(_coarse(halved), _coarse(small)) > 0.9
    # a wide face is stretched to the network's square, and its map back to the face
    wide = np.ascontiguousarray(X[:2].repeat(2, axis=2))  # 48x96
    wide_maps = explain(model, wide, target=model.predict(X[:2]))
    assert wide_maps.shape == (2, 48, 96)
    assert _rho(_coarse(wide_maps.reshape(2, 48, 48, 2).mean(axis=3)), _coarse(small[:2])) > 0.9
    # colour faces, and flat rows of pixels
    colour = np.repeat(X[:2, ..., None], 3, axis=3)
    np.testing.assert_allclose(explain(model, colour), small[:2], atol=1e-5)
    np.testing.assert_allclose(explain(model, X[:2].reshape(2, -1)), small[:2], atol=1e-5)


def test_targets_one_for_all_one_per_face_codes_and_names(shipped, drawn_faces):
    X, _ = drawn_faces
    model = shipped["fast"].set_params(clf__precision="32")
    predicted = model.predict(X)
    np.testing.assert_allclose(explain(model, X, target=predicted), explain(model, X), atol=1e-6)
    happy = explain(model, X, target="happy")
    np.testing.assert_array_equal(explain(model, X, target=3), happy)  # FER2013's code
    np.testing.assert_array_equal(explain(model, X, target=["happy"] * len(X)), happy)
    angry = explain(model, X, target="angry")
    assert _rho(happy, angry) < 0.95  # another class, another map


@pytest.mark.parametrize("precision", ["bf16", "int8", "auto"])
def test_every_precision_path_explains_in_float32(shipped, drawn_faces, precision):
    X, _ = drawn_faces
    model = copy.deepcopy(shipped["fast"])
    reference = explain(model.set_params(clf__precision="32"), X, target="sad")
    maps = explain(model.set_params(clf__precision=precision), X, target="sad")
    np.testing.assert_allclose(maps, reference, atol=1e-5)
    # the predicted class is the one the model predicts in its own precision
    np.testing.assert_array_equal(explain(model, X), explain(model, X, target=model.predict(X)))


def test_an_ensemble_combines_its_members(shipped, drawn_faces):
    X, _ = drawn_faces
    single = shipped["fast"][-1]
    clf = EmotionClassifier(module=EnsembleCNN([copy.deepcopy(single.module_),
                                                copy.deepcopy(single.module_)]),
                            classes=single.classes_, precision="32")
    clf = clf.initialize_fitted(single.image_shape_)
    twin = copy.deepcopy(shipped["fast"])
    twin.steps[-1] = ("clf", clf)
    # two copies of one network: each gets half the gradient, so the same maps
    np.testing.assert_allclose(explain(twin, X, target="fear"),
                               explain(shipped["fast"], X, target="fear"), atol=1e-4)
    accurate = shipped["accurate"]
    members = [m for m in accurate[-1].module_.members]
    assert len(members) == 3 and explain(accurate, X[:2]).shape == (2, 48, 48)


def test_a_classifier_alone_and_a_model_file(fitted_pipeline, faces, tmp_path):
    X, _ = faces
    maps = explain(fitted_pipeline, X[:5])
    assert maps.shape == (5, 24, 24)
    clf = fitted_pipeline[-1]
    alone = explain(clf, fitted_pipeline[:-1].transform(X[:5]),
                    target=fitted_pipeline.predict(X[:5]))
    np.testing.assert_allclose(alone, explain(fitted_pipeline, X[:5],
                                              target=fitted_pipeline.predict(X[:5])), atol=1e-5)
    path = save_model(fitted_pipeline, tmp_path / "tiny.safetensors")
    np.testing.assert_allclose(explain(load_model(path), X[:5], target="happy"),
                               explain(fitted_pipeline, X[:5], target="happy"), atol=1e-5)


def test_occlusion_explains_any_classifier(faces):
    X, y = faces
    rows = X.reshape(len(X), -1).astype(np.float64) / 255
    model = LogisticRegression(max_iter=300).fit(rows, y)
    maps = explain(model, rows[:3])  # "auto": occlusion, the only method it can have
    assert maps.shape == (3, 24, 24)
    np.testing.assert_array_equal(maps, explain(model, rows[:3], method="occlusion"))
    assert maps.max() == 1.0 and (maps == 0).any()
    raw = explain(model, rows[:3], method="occlusion", window=4, stride=2, normalize=False)
    assert 0 < raw.max() < 1  # probability drops
    with pytest.raises(TypeError, match="method='layercam' needs a fitted EmotionClassifier.*"
                                        "method='occlusion' explains any classifier"):
        explain(model, rows[:3], method="layercam")


def test_occlusion_agrees_with_a_hand_computed_square(shipped, drawn_faces):
    X, _ = drawn_faces
    model = shipped["fast"]
    face = X[:1]
    maps = explain(model, face, target="happy", method="occlusion", window=48, stride=48,
                   normalize=False)
    # one window: half a face before the edge to half after, so 4 squares cover it, each
    # a quarter of the face: the top-left pixel is covered by one of them only
    hidden = face.astype(np.float32).copy()
    hidden[0, :24, :24] = face.mean()
    column = list(model.classes_).index("happy")
    drop = (model.predict_proba(face)[0, column]
            - model.predict_proba(np.rint(hidden).astype(np.uint8))[0, column])
    assert maps[0, 0, 0] == pytest.approx(max(drop, 0), abs=1e-6)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(method="rise"), ValueError, r"unknown method 'rise'; use one of \['auto'"),
    (dict(target="bored"), ValueError, r"target 'bored' is not one of the model's classes"),
    (dict(target=["happy", "sad"]), ValueError, "target has 2 labels for 3 faces"),
    (dict(method="layercam", window=8), ValueError, "window and stride set the squares of "
                                                    "method='occlusion'"),
    (dict(method="occlusion", window=0), ValueError, "window == 0, must be >= 1"),
])
def test_bad_arguments_say_what_to_do(shipped, drawn_faces, kwargs, error, message):
    X, _ = drawn_faces
    with pytest.raises(error, match=message):
        explain(shipped["fast"], X[:3], **kwargs)


def test_unfitted_and_unsuitable_models_are_refused(drawn_faces):
    X, _ = drawn_faces
    with pytest.raises(NotFittedError, match="not fitted: fit it first, or load a fitted model"):
        explain(make_emotion_pipeline(), X[:2])

    class Scorer:  # fitted, with classes_, but no probabilities
        classes_ = np.array(EMOTIONS)

        def __sklearn_is_fitted__(self):
            return True

        def predict(self, X):
            return self.classes_[np.zeros(len(X), int)]

    with pytest.raises(TypeError, match="explain needs a classifier with predict_proba"):
        explain(Scorer(), X[:2], method="occlusion")


def test_gradients_leave_the_model_as_it_was(shipped, drawn_faces):
    X, _ = drawn_faces
    model = shipped["fast"]
    before = {k: v.clone() for k, v in model[-1].module_.state_dict().items()}
    proba = model.predict_proba(X)
    explain(model, X)
    assert all(torch.equal(before[k], v) for k, v in model[-1].module_.state_dict().items())
    assert all(p.grad is None for p in model[-1].module_.parameters())
    np.testing.assert_array_equal(model.predict_proba(X), proba)

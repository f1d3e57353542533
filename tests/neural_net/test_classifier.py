import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV

from fer_sklearn import (
    EMOTIONS,
    EmotionClassifier,
    EmotionCNN,
    ImageAugmenter,
    make_emotion_pipeline,
)

from ..conftest import TINY_NET

# compares predicted numbers: .ci/run runs it again under forced bf16 and int8
pytestmark = pytest.mark.precision


@pytest.fixture(scope="module")
def small(faces):
    X, y = faces
    return X.astype(np.float32) / 255, y


def _fit(X, y, **params):
    return EmotionClassifier(**{"random_state": 0, **TINY_NET, **params}).fit(X, y)


def test_string_labels_round_trip(small):
    X, y = small
    clf = _fit(X, y)
    assert clf.classes_.tolist() == sorted(EMOTIONS)
    assert set(clf.predict(X[:20])) <= set(EMOTIONS)
    proba = clf.predict_proba(X[:20])
    assert proba.shape == (20, 7)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(X[:20]), clf.classes_[proba.argmax(axis=1)])


def test_integer_labels_and_missing_classes(small):
    X, y = small
    codes = np.array([EMOTIONS.index(v) for v in y])
    keep = codes != 1  # no disgust
    clf = _fit(X[keep], codes[keep])
    assert clf.classes_.tolist() == [0, 2, 3, 4, 5, 6]
    assert clf.module_.head[-1].out_features == 6
    assert clf.predict(X[:5]).dtype.kind == "i"
    fixed = _fit(X[keep], codes[keep], classes=list(range(7)))
    assert fixed.predict_proba(X[:5]).shape == (5, 7)


def test_learns_synthetic_faces(faces):
    X, y = faces
    pipe = make_emotion_pipeline(random_state=0, module__width=8, module__depth=2, max_epochs=12,
                                 batch_size=32, lr=3e-3, module__hidden_units=32,
                                 validation_fraction=None, augment=False)
    pipe.set_params(resize__size=24)
    pipe.fit(X, y)
    # well above the 1/7 of chance on the training faces after a few seconds of training
    assert (pipe.predict(X) == y).mean() > 0.28


def test_random_state_makes_training_reproducible(small):
    X, y = small
    a = _fit(X, y).predict_proba(X[:10])
    b = _fit(X, y).predict_proba(X[:10])
    np.testing.assert_allclose(a, b, rtol=1e-5)
    c = _fit(X, y, random_state=1).predict_proba(X[:10])
    assert not np.allclose(a, c)


def test_init_stores_parameters_untouched():
    clf = EmotionClassifier(lr=0.1, module__dropout=0.3, patience=2, device="auto")
    params = clf.get_params()
    assert params["lr"] == 0.1 and params["module__dropout"] == 0.3
    assert params["patience"] == 2 and params["device"] == "auto"
    assert not any(name.startswith("_") for name in params)
    clone(clf)


def test_clone_and_set_params(small):
    X, y = small
    clf = _fit(X, y)
    copy = clone(clf)
    assert copy.get_params()["module__width"] == 4
    assert not hasattr(copy, "module_")
    copy.set_params(module__dropout=0.1, lr=0.01)
    assert copy.lr == 0.01
    assert copy.fit(X, y).module_.head[1].p == 0.1


def test_device_auto_resolves_and_stays_auto(small):
    X, y = small
    clf = _fit(X, y, device="auto")
    assert clf.device == "auto"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(clf.module_.parameters()).device.type == expected


def test_joblib_round_trip_gives_identical_predictions(tmp_path, fitted_pipeline, faces):
    X, _ = faces
    path = tmp_path / "model.joblib"
    joblib.dump(fitted_pipeline, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted_pipeline.predict_proba(X))
    assert loaded[-1].device == "auto"


def test_model_saved_with_a_cuda_device_loads_on_a_cpu_only_machine(small):
    """A model pickled by a net whose device was 'cuda' loads and predicts on a CPU-only machine."""
    X, y = small
    clf = _fit(X, y)
    expected = clf.predict_proba(X[:10])
    clf.device = "cuda"  # as if trained there (the weights themselves are mapped by skorch)
    blob = pickle.dumps(clf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = pickle.loads(blob)
    assert str(loaded.device) == ("cuda" if torch.cuda.is_available() else "cpu")
    np.testing.assert_allclose(loaded.predict_proba(X[:10]), expected, rtol=1e-5)


def test_balanced_class_weight(small):
    X, y = small
    keep = np.r_[np.flatnonzero(y != "disgust"), np.flatnonzero(y == "disgust")[:5]]
    clf = _fit(X[keep], y[keep], class_weight="balanced")
    weight = clf.criterion_.weight.numpy()
    disgust = clf.classes_.tolist().index("disgust")
    assert weight[disgust] == pytest.approx(len(keep) / (7 * 5))
    assert weight[disgust] > 4 * np.delete(weight, disgust).max()


def test_augmentation_is_training_only_and_switchable(small):
    X, y = small
    clf = _fit(X, y, augment=False)
    assert clf.augmenter_ is None
    custom = ImageAugmenter(max_rotation=0, erasing=0.5)
    augmented = _fit(X, y, augment=custom, device="cpu")
    assert augmented.augmenter_ is custom
    # a net that augments in training predicts deterministically: no augmentation outside training
    np.testing.assert_array_equal(augmented.predict_proba(X[:5]), augmented.predict_proba(X[:5]))
    # while its training steps do see augmented images
    seen = []
    augmented.module_.register_forward_pre_hook(lambda module, args: seen.append(args[0].clone()))
    batch = torch.as_tensor(X[:8, None])
    augmented.train_step_single((batch, torch.zeros(8, dtype=torch.long)))
    assert not torch.allclose(seen[-1], batch)


def test_augmenter_keeps_shape_and_varies_images():
    images = torch.rand(8, 1, 24, 24)
    out = ImageAugmenter(erasing=1.0)(images)
    assert out.shape == images.shape
    assert not torch.allclose(out, images)
    still = ImageAugmenter(max_shift=0, max_rotation=0, max_scale=0, flip=False)(images)
    torch.testing.assert_close(still, images, atol=1e-5, rtol=0)


def test_callbacks_follow_parameters(small):
    X, y = small
    clf = _fit(X, y, max_epochs=4, early_stopping=False, lr_schedule=None)
    names = [name for name, _ in clf.callbacks_]
    assert "early_stopping" not in names and "lr_scheduler" not in names
    assert len(clf.history) == 4
    clf = _fit(X, y, max_epochs=4, lr_schedule="cosine", warmup_epochs=1)
    lrs = clf.history[:, "lr"]
    assert lrs[0] < lrs[1] and lrs[-1] < lrs[1]
    assert "early_stopping" in dict(clf.callbacks_)
    assert {"train_loss", "valid_loss", "train_acc", "valid_acc", "lr"} <= set(clf.history[-1])


def test_early_stopping_stops(small):
    X, y = small
    clf = _fit(X, y, max_epochs=40, patience=1, lr=1e-7)
    assert len(clf.history) < 40


def test_without_validation_monitors_training_loss(small):
    X, y = small
    clf = _fit(X, y, validation_fraction=None)
    assert "valid_loss" not in clf.history[-1]
    assert dict(clf.callbacks_)["early_stopping"].monitor == "train_loss"


def test_fixed_validation_set_through_the_pipeline(faces):
    X, y = faces
    pipe = make_emotion_pipeline(random_state=0, **TINY_NET).set_params(resize__size=24)
    pipe.fit(X[:150], y[:150], X_valid=X[150:], y_valid=y[150:])
    clf = pipe[-1]
    valid_sizes = [batch["valid_batch_size"] for batch in clf.history[-1, "batches"]
                   if "valid_batch_size" in batch]
    train_sizes = [batch["train_batch_size"] for batch in clf.history[-1, "batches"]
                   if "train_batch_size" in batch]
    assert sum(valid_sizes) == 60 and sum(train_sizes) == 150
    # the preprocessing was fitted on the training images only
    assert pipe.named_steps["normalize"].mean_ == pytest.approx(X[:150].mean(), rel=1e-4)


def test_fixed_validation_set_is_used_for_early_stopping(small):
    X, y = small
    clf = EmotionClassifier(**{**TINY_NET, "max_epochs": 2}).fit(
        X[:150], y[:150], X_valid=X[150:], y_valid=y[150:])
    proba = clf.predict_proba(X[150:])
    loss = -np.log(proba[np.arange(60), [clf.classes_.tolist().index(v) for v in y[150:]]]).mean()
    assert min(clf.history[:, "valid_loss"]) == pytest.approx(loss, rel=1e-3)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(X_valid=np.zeros((3, 24, 24))), ValueError, "both X_valid and y_valid"),
    (dict(X_valid=np.zeros((1, 24, 24)), y_valid=["contempt"]), ValueError,
     "y_valid contains the unknown label 'contempt'"),
    (dict(X_valid=np.zeros((1, 12, 12)), y_valid=["happy"]), ValueError,
     "X_valid has images of size"),
])
def test_bad_validation_sets(small, kwargs, error, message):
    X, y = small
    with pytest.raises(error, match=message):
        EmotionClassifier(**TINY_NET).fit(X, y, **kwargs)


@pytest.mark.parametrize("make, error, message", [
    (lambda X, y: (X[:10], y[:9]), ValueError, "10 images but 9 labels"),
    (lambda X, y: (X, np.full(len(y), "happy")), ValueError, "single class"),
    (lambda X, y: (np.where(X > 0.5, np.nan, X), y), ValueError, "NaN or infinite"),
    (lambda X, y: (X[:0], y[:0]), ValueError, "0 images"),
    (lambda X, y: (X[..., None].repeat(3, -1), y), ValueError,
     "convert colour images with Grayscale"),
    (lambda X, y: (X.reshape(len(X), -1)[:, :-1], y), ValueError, "not a square image"),
    (lambda X, y: (X[0, 0], y[:24]), ValueError, "got 1 dimension"),
    (lambda X, y: (X.astype(str).astype(object) + "px", y), TypeError, "numeric pixel values"),
    (lambda X, y: (X, np.full(len(y), np.nan)), ValueError, "NaN"),
])
def test_bad_training_data(small, make, error, message):
    X, y = make(*small)
    with pytest.raises(error, match=message):
        EmotionClassifier(**TINY_NET).fit(X, y)


@pytest.mark.parametrize("params, message", [
    (dict(validation_fraction=1.5), "validation_fraction"),
    (dict(lr_schedule="step"), "lr_schedule"),
    (dict(max_epochs=0), "max_epochs"),
    (dict(class_weight="auto"), "class_weight"),
    (dict(precision="fp16"), "precision"),
])
def test_bad_parameters_fail_in_fit(small, params, message):
    X, y = small
    clf = EmotionClassifier(**params)  # __init__ does not validate
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)


def test_not_fitted_and_wrong_image_size(small):
    X, y = small
    with pytest.raises(NotFittedError):
        EmotionClassifier().predict(X)
    clf = _fit(X, y)
    with pytest.raises(ValueError, match="fitted on 24x24 images"):
        clf.predict(np.zeros((2, 48, 48)))


def test_flat_rows_are_square_images(small):
    X, y = small
    clf = _fit(X.reshape(len(X), -1), y)
    np.testing.assert_allclose(clf.predict_proba(X.reshape(len(X), -1)[:3]),
                               clf.predict_proba(X[:3]))


def test_module_parameters_validate():
    with pytest.raises(ValueError, match="dropout"):
        EmotionCNN(dropout=1.5)
    net = EmotionCNN(width=4, depth=3, hidden_units=0)
    assert net(torch.zeros(2, 1, 48, 48)).shape == (2, 7)
    assert net(torch.zeros(2, 1, 1, 1)).shape == (2, 7)  # any size works


def test_residual_network_is_resnet_18s_layout():
    from fer_sklearn.neural_net._folding import fold_batch_norm

    with pytest.raises(ValueError, match="convs_per_block must be even with residual"):
        EmotionCNN(residual=True, convs_per_block=3)
    net = EmotionCNN(width=4, depth=4, convs_per_block=4, hidden_units=0, residual=True).eval()
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert len(convs) + len(linears) == 18  # the stem, 4 stages of 2 basic blocks, the head
    projections = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)
                   and m.kernel_size == (1, 1)]
    assert len(projections) == 3  # where the width doubles, not in the first stage
    assert "residual=True" in repr(net)
    x = torch.randn(3, 1, 48, 48)
    torch.testing.assert_close(fold_batch_norm(net)(x), net(x), atol=1e-5, rtol=1e-4)


def test_grid_search_reaches_module_parameters(faces):
    X, y = faces
    pipe = make_emotion_pipeline(random_state=0,
                                 **{**TINY_NET, "max_epochs": 1}).set_params(resize__size=24)
    search = GridSearchCV(pipe, {"clf__lr": [1e-3, 3e-3], "clf__module__dropout": [0.3, 0.5]}, cv=2)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_[-1].module_.head[1].p == search.best_params_[
        "clf__module__dropout"]


@pytest.mark.slow
def test_grid_search_in_parallel(faces):
    X, y = faces
    pipe = make_emotion_pipeline(random_state=0,
                                 **{**TINY_NET, "max_epochs": 1}).set_params(resize__size=24)
    search = GridSearchCV(pipe, {"clf__lr": [1e-3, 3e-3]}, cv=2, n_jobs=2).fit(X, y)
    assert set(search.predict(X[:5])) <= set(EMOTIONS)


def test_file_paths_instead_of_images_get_a_hint():
    with pytest.raises(TypeError, match="read them first, e.g. with load_image_folder"):
        make_emotion_pipeline(**TINY_NET).fit(["faces/a.png", "faces/b.png"], ["happy", "sad"])

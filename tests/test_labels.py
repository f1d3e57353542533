"""Emotion labels mean the same wherever they come in: codes, names, any case, aliases.

Budget: about 10 s on 2 CPU cores (tiny networks; one shipped model on 300 FER2013 faces).
"""

import warnings

import numpy as np
import pytest

from fer_sklearn import EMOTIONS, EmotionClassifier, load_fer2013, load_pretrained
from fer_sklearn.evaluation import evaluate
from fer_sklearn.utils import labels_like

from .conftest import TINY_NET


@pytest.fixture(scope="module")
def small(faces):
    X, y = faces
    return X.astype(np.float32) / 255, y


def _fit(X, y, **params):
    return EmotionClassifier(random_state=0, device="cpu", **{**TINY_NET, **params}).fit(X, y)


def test_case_and_aliases_make_one_class(small):
    X, y = small
    mixed = y.astype(object)
    mixed[::3] = [label.capitalize() for label in mixed[::3]]
    mixed[mixed == "happy"] = "happiness"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # emotions only: no warning
        clf = _fit(X, mixed)
    assert clf.classes_.tolist() == sorted(EMOTIONS)


def test_a_label_that_is_no_emotion_is_warned_about_unless_classes_are_given(small):
    X, y = small
    typo = y.astype(object)
    typo[0] = "hapy"
    with pytest.warns(UserWarning, match=r"no emotion: \['hapy'\].*classes="):
        clf = _fit(X, typo)
    assert "hapy" in clf.classes_.tolist()
    own = np.where(y == "happy", "glad", y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = _fit(X, own, classes=sorted(set(own)))
    assert "glad" in clf.classes_.tolist()


def test_integer_labels_stay_integers(small):
    X, y = small
    codes = np.array([EMOTIONS.index(label) for label in y])
    clf = _fit(X, codes)
    assert clf.classes_.tolist() == list(range(7))
    assert clf.predict(X[:3]).dtype.kind == "i"
    # names and aliases score against a model of codes
    assert clf.score(X, y) == clf.score(X, codes)
    assert clf.score(X, np.char.upper(y.astype(str))) == clf.score(X, codes)


def test_the_loader_and_the_shipped_model_fit_together(fer2013_csv):
    X, y = load_fer2013(fer2013_csv, usage="PublicTest", return_X_y=True)
    X, y = X[:300], y[:300]
    model = load_pretrained("fast", device="cpu")
    accuracy = model.score(X, y)  # codes against a model of names
    assert accuracy > 0.5
    names = np.array(EMOTIONS)[y]
    assert model.score(X, np.char.capitalize(names.astype(str))) == accuracy
    aliases = np.where(names == "happy", "happiness", names)
    assert evaluate(model, X, aliases).accuracy == pytest.approx(accuracy)


def test_labels_like():
    assert labels_like([0, 6], EMOTIONS).tolist() == ["angry", "neutral"]
    assert labels_like(np.array([3.0]), EMOTIONS).tolist() == ["happy"]
    assert labels_like(["Fearful"], EMOTIONS).tolist() == ["fear"]
    assert labels_like(["scared", "Joy"], range(7)).tolist() == [2, 3]
    with pytest.raises(ValueError, match="unknown emotion name 'grumpy'"):
        labels_like(["grumpy"], range(7))
    assert labels_like(["cat"], ["cat", "dog"]).tolist() == ["cat"]

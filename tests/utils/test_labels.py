"""Emotion labels mean the same wherever they come in: codes, names, any case, aliases.

Budget: about 10 s on 2 CPU cores (tiny networks; one shipped model on 300 FER2013 faces).
"""

import re
import warnings

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, get_scorer
from sklearn.model_selection import cross_val_score

from fer_sklearn import EMOTIONS, EmotionClassifier, load_fer2013, load_pretrained
from fer_sklearn.evaluation import evaluate
from fer_sklearn.utils import labels_like

from ..conftest import TINY_NET


@pytest.fixture(scope="module")
def small(faces):
    X, y = faces
    return X.astype(np.float32) / 255, y


def _fit(X, y, **params):
    return EmotionClassifier(random_state=0, device="cpu", **{**TINY_NET, **params}).fit(X, y)


def test_the_users_labels_come_back_as_given(small):
    X, y = small
    own = np.char.capitalize(y.astype(str)).astype(object)
    own[own == "Happy"] = "joy"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # emotions and an alias: no warning
        clf = _fit(X, own)
    assert clf.classes_.tolist() == sorted(set(own))
    predicted = clf.predict(X)
    assert set(predicted.tolist()) <= set(own.tolist())
    # scikit-learn's own scorer agrees with .score, and other spellings still score
    assert accuracy_score(own, predicted) == pytest.approx(clf.score(X, own))
    assert clf.score(X, y) == pytest.approx(clf.score(X, own))
    assert get_scorer("accuracy")(clf, X, own) == pytest.approx(clf.score(X, own))


def test_sklearn_model_selection_scores_the_users_labels(small):
    X, y = small
    own = np.char.upper(y.astype(str))
    clf = EmotionClassifier(random_state=0, device="cpu", **{**TINY_NET, "max_epochs": 2})
    by_name = cross_val_score(clf, X, own, cv=2, scoring="accuracy")
    by_default = cross_val_score(clf, X, own, cv=2)
    assert by_name == pytest.approx(by_default)
    assert by_name.min() > 0  # renamed labels scored 0.0 here while .score did not


@pytest.mark.parametrize("labels, spellings", [
    (["Happy", "happy"], "'Happy', 'happy'"),
    (["joy", "happy"], "'joy', 'happy'"),
])
def test_two_spellings_of_one_emotion_are_an_error(small, labels, spellings):
    X, y = small
    mixed = y.astype(object)
    happy = np.flatnonzero(y == "happy")
    mixed[happy[::2]], mixed[happy[1::2]] = labels
    with pytest.raises(ValueError, match=f"emotion 'happy' in 2 ways: {spellings}.*normalize"):
        _fit(X, mixed)
    with pytest.raises(ValueError, match="classes spells the emotion 'happy'"):
        _fit(X, y, classes=["Happy", "happy", "sad"])


def test_classes_are_kept_as_given_and_labels_matched_to_them(small):
    X, y = small
    classes = [label.title() for label in EMOTIONS]
    clf = _fit(X, y, classes=classes)  # lower-case labels, title-case classes
    assert clf.classes_.tolist() == classes
    assert set(clf.predict(X).tolist()) <= set(classes)
    clf.partial_fit(X, np.char.upper(y.astype(str)))  # matched to the fitted classes again
    assert clf.classes_.tolist() == classes


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
    assert labels_like(["happiness", "sad", "cat"],
                       ["Happy", "Sad"]).tolist() == ["Happy", "Sad", "cat"]
    assert labels_like([3, 4], ["Happy", "Sad"]).tolist() == ["Happy", "Sad"]


def test_a_fit_shows_its_progress_by_default_as_skorch_does(small, capsys):
    X, y = small
    EmotionClassifier(random_state=0, device="cpu", **{**TINY_NET, "max_epochs": 1}).fit(X, y)
    assert "train_loss" in capsys.readouterr().out  # skorch's epoch table
    EmotionClassifier(random_state=0, device="cpu", verbose=0,
                      **{**TINY_NET, "max_epochs": 1}).fit(X, y)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("y, warned", [
    (["happy", "sad", "happy", "sad"], None),
    ([0, 3, 7, 3], r"integer labels outside FER2013's emotion codes 0-6: \[7\]"),
    (["0", "3", "0", "3"], r"the strings \['0', '3'\], not FER2013's codes 0-6"),
])
def test_labels_that_look_like_codes_but_are_not_are_warned_about(y, warned):
    from fer_sklearn.neural_net._targets import labels_for_fit

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert labels_for_fit(np.array(y)).tolist() == y  # kept as given, either way
    messages = [str(w.message) for w in caught]
    assert (not messages) if warned is None else re.search(warned, " ".join(messages))


def test_a_misnamed_label_column_is_named(tmp_path):
    path = tmp_path / "faces.csv"
    path.write_text("label,pixels\n3," + " ".join(["0"] * 2304) + "\n")
    with pytest.raises(ValueError, match=r"missing column 'emotion' \(the labels, codes 0-6\); "
                                         r"found columns \['label', 'pixels'\]"):
        load_fer2013(path)
    path.write_text("pixels\n" + " ".join(["0"] * 2304) + "\n")  # a file of unlabelled faces
    assert load_fer2013(path).target is None

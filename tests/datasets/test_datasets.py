"""load_image_folder, make_faces and the emotion names."""

import numpy as np
import pytest
from PIL import Image

from fer_sklearn import EMOTIONS, load_image_folder, make_faces
from fer_sklearn.utils import emotion_codes, emotion_from_name, emotion_names, is_emotion_name


def test_emotion_names_and_aliases():
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert emotion_from_name("Happiness") == "happy"
    assert emotion_from_name(" ANGER ") == "angry"
    assert emotion_codes(["surprised", "neutral", "Sadness"]).tolist() == [5, 6, 4]
    with pytest.raises(ValueError, match="unknown emotion name 'contempt'; valid names are angry"):
        emotion_from_name("contempt")
    assert is_emotion_name("Joy") and not is_emotion_name("contempt")


def test_emotion_names_from_codes_and_names():
    assert emotion_names(np.array([3, 0, 6])) == ["happy", "angry", "neutral"]
    assert emotion_names(["Sadness", "fear"]) == ["sad", "fear"]
    assert emotion_names(["happy", "contempt"], strict=False) == ["happy", "contempt"]
    with pytest.raises(ValueError, match="unknown emotion name 'contempt'"):
        emotion_names(["contempt"])
    with pytest.raises(ValueError, match="7 is not a FER2013 code 0-6"):
        emotion_names([7], strict=False)


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_image_folder_reads_any_size_and_colour(tmp_path):
    rng = np.random.RandomState(0)
    _save(tmp_path / "Happy" / "a.png", rng.randint(0, 255, (48, 48), dtype=np.uint8))
    _save(tmp_path / "anger" / "b.jpg", rng.randint(0, 255, (100, 80, 3), dtype=np.uint8))
    _save(tmp_path / "sadness" / "c.png", np.full((30, 30, 4), 200, dtype=np.uint8))
    (tmp_path / "sadness" / "notes.txt").write_text("not an image")
    bunch = load_image_folder(tmp_path)
    assert bunch.data.shape == (3, 48, 48) and bunch.data.dtype == np.uint8
    assert sorted(np.array(EMOTIONS)[bunch.target].tolist()) == ["angry", "happy", "sad"]
    assert bunch.skipped == []
    sad = bunch.data[np.array(EMOTIONS)[bunch.target] == "sad"][0]
    assert np.all(sad == 200)
    X, y = load_image_folder(tmp_path, size=24, return_X_y=True)
    assert X.shape == (3, 24, 24) and len(y) == 3


def test_image_folder_unknown_emotion_lists_valid_names(tmp_path):
    _save(tmp_path / "contempt" / "a.png", np.zeros((8, 8), dtype=np.uint8))
    with pytest.raises(ValueError,
                       match="folder 'contempt' is not an emotion; valid folder names are angry"):
        load_image_folder(tmp_path)


def test_image_folder_reports_bad_files_and_keeps_the_rest(tmp_path):
    _save(tmp_path / "fear" / "ok.png", np.zeros((8, 8), dtype=np.uint8))
    (tmp_path / "fear" / "broken.png").write_bytes(b"not a png")
    with pytest.warns(UserWarning, match="skipped 1 unreadable image"):
        bunch = load_image_folder(tmp_path)
    assert len(bunch.data) == 1
    assert bunch.skipped[0][0].endswith("broken.png")


def test_image_folder_missing_or_empty(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_image_folder(tmp_path / "absent")
    with pytest.raises(ValueError, match="no emotion folders"):
        load_image_folder(tmp_path)


def test_make_faces_shapes_balance_and_reproducibility():
    X, y = make_faces(70, size=32, random_state=3)
    assert X.shape == (70, 32, 32) and X.dtype == np.uint8
    assert np.bincount(y).tolist() == [10] * 7
    X2, y2 = make_faces(70, size=32, random_state=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, make_faces(70, size=32, random_state=4)[0])


def test_make_faces_expressions_differ():
    """The mean face of each expression differs from the others around the mouth and brows."""
    X, y = make_faces(700, random_state=0)
    means = np.stack([X[y == c].mean(axis=0) for c in range(7)])
    distances = np.abs(means[:, None] - means[None]).mean(axis=(2, 3))
    assert distances[~np.eye(7, dtype=bool)].min() > 1.0


@pytest.mark.parametrize("kwargs", [dict(n_samples=0), dict(n_samples=2.5),
                                    dict(n_samples=5, size=4),
                                    dict(n_samples=5, random_state="seed")])
def test_make_faces_rejects_bad_arguments(kwargs):
    name = [key for key in kwargs if key != "n_samples"] or ["n_samples"]
    with pytest.raises(ValueError, match=f"'{name[0]}' parameter of make_faces"):
        make_faces(**kwargs)

"""The pretrained model that ships in the package."""

import hashlib
import json
import pickle
import shutil

import numpy as np
import pytest
from sklearn.utils.validation import check_is_fitted

from fer_sklearn import EMOTIONS, available_models, load_fer2013, load_pretrained, make_emotion_pipeline
from fer_sklearn import evaluate, load_model, make_faces
from fer_sklearn.persistence import ModelFileError
from fer_sklearn.pretrained._pretrained import WEIGHTS_DIR, export_pretrained

from .conftest import TINY_NET


@pytest.fixture(scope="module")
def model():
    return load_pretrained()


def test_ships_lean_safetensors_weights_and_json_configs():
    assert available_models() == ["accurate", "default", "fast"]
    weights = list(WEIGHTS_DIR.glob("*.safetensors"))
    assert weights and sum(p.stat().st_size for p in weights) <= 15e6  # all models together
    assert not list(WEIGHTS_DIR.glob("*.pkl")) and not list(WEIGHTS_DIR.glob("*.joblib"))
    for config in WEIGHTS_DIR.glob("*.json"):
        members = json.loads(config.read_text())["members"]
        assert all((WEIGHTS_DIR / m["weights"]).exists() for m in members)


def test_is_a_fitted_pipeline_with_emotion_names(model):
    check_is_fitted(model)
    assert tuple(model.classes_) == EMOTIONS
    faces = np.random.RandomState(0).randint(0, 256, size=(5, 64, 64, 3)).astype(np.uint8)
    proba = model.predict_proba(faces)  # any size, colour
    assert proba.shape == (5, 7)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert set(model.predict(faces)) <= set(EMOTIONS)


def test_every_shipped_model_loads_and_tta_is_an_option():
    faces = np.random.RandomState(1).randint(0, 256, size=(3, 48, 48)).astype(np.uint8)
    for name in available_models():
        plain, tta = load_pretrained(name), load_pretrained(name, tta=True)
        assert tta[-1].tta and not plain[-1].tta
        assert not np.allclose(plain.predict_proba(faces), tta.predict_proba(faces))


def test_pickles_and_predicts_the_same(model):
    faces = np.random.RandomState(2).randint(0, 256, size=(4, 48, 48)).astype(np.uint8)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(copy.predict_proba(faces), model.predict_proba(faces), rtol=1e-6)


def test_fast_default_accurate_grow_in_size():
    sizes = [sum(p.numel() for p in load_pretrained(name, device="cpu")[-1].module_.parameters())
             for name in ("fast", "default", "accurate")]
    assert sizes == sorted(sizes) and len(set(sizes)) == 3
    assert len(load_pretrained("accurate", device="cpu")[-1].module_.members) == 3


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="no pretrained model named 'huge'; available: .*default"):
        load_pretrained("huge")


def test_export_round_trip(tmp_path, faces, monkeypatch):
    X, y = faces
    pipe = make_emotion_pipeline(random_state=0, classes=sorted(EMOTIONS), **TINY_NET)
    pipe.fit(X, y)
    with pytest.raises(ValueError, match="share their preprocessing"):
        other = make_emotion_pipeline(random_state=0, **TINY_NET).fit(X[::2] * 0.5, y[::2])
        export_pretrained([pipe, other], "bad", directory=tmp_path)
    export_pretrained([pipe], "tiny", directory=tmp_path)
    monkeypatch.setattr("fer_sklearn.pretrained._pretrained.WEIGHTS_DIR", tmp_path)
    loaded = load_pretrained("tiny")
    # fp16 storage: the probabilities agree to about 3 decimals
    np.testing.assert_allclose(loaded.predict_proba(X[:20]), pipe.predict_proba(X[:20]), atol=5e-3)


@pytest.mark.parametrize("labels", ["names", "codes"])
def test_export_keeps_the_fitted_classes_and_labels(tmp_path, faces, monkeypatch, labels):
    X, y = faces
    if labels == "codes":
        y = np.array([EMOTIONS.index(name) for name in y])
    pipe = make_emotion_pipeline(random_state=0, **TINY_NET).fit(X, y)  # names sort alphabetically
    export_pretrained([pipe], "mine", directory=tmp_path)
    monkeypatch.setattr("fer_sklearn.pretrained._pretrained.WEIGHTS_DIR", tmp_path)
    loaded = load_pretrained("mine", device="cpu")
    assert loaded.classes_.tolist() == pipe.classes_.tolist()
    agree = (loaded.predict(X) == pipe.predict(X)).mean()
    assert agree > 0.97  # fp16 weights may flip a near tie


@pytest.mark.fer2013
def test_beats_chance_by_far_on_public_test(fer2013_csv, model):
    X, y = load_fer2013(fer2013_csv, usage="PublicTest", return_X_y=True)
    X, names = X[:600], np.array(EMOTIONS)[y[:600]]
    accuracy = {name: (load_pretrained(name).predict(X) == names).mean() for name in available_models()}
    # all of PublicTest: fast 64.9%, default 66.4%, accurate 70.4%; chance 0.14, majority 0.25
    assert min(accuracy.values()) > 0.6
    assert accuracy["accurate"] > accuracy["fast"]


def test_shipped_models_carry_their_version_and_weights_sha256(tmp_path):
    model = load_pretrained("fast")
    info = model.pretrained_
    assert info["name"] == "fast" and info["version"]
    for file, digest in info["weights_sha256"].items():
        assert hashlib.sha256((WEIGHTS_DIR / file).read_bytes()).hexdigest() == digest
    report = evaluate(model, *make_faces(14, random_state=0))
    assert report.provenance["model"]["pretrained_version"] == info["version"]
    assert any(digest in row for row in report.provenance["model"]["weights_sha256"]
               for digest in info["weights_sha256"].values())
    # a weights file that is not the one the config names is refused
    config = json.loads((WEIGHTS_DIR / "fast.json").read_text())
    for name in ["fast.json", config["members"][0]["weights"]]:
        shutil.copy(WEIGHTS_DIR / name, tmp_path / name)
    damaged = tmp_path / config["members"][0]["weights"]
    damaged.write_bytes(damaged.read_bytes()[:-2] + b"\x00\x00")
    with pytest.raises(ModelFileError, match="sha256"):
        load_model(tmp_path / "fast.json")

"""The pretrained model that ships in the package."""

import pickle

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from sklearn.utils.validation import check_is_fitted

from fer_sklearn import (
    EMOTIONS,
    EmotionCNN,
    EnsembleCNN,
    available_models,
    evaluate,
    load_fer2013,
    load_model,
    load_pretrained,
    make_emotion_pipeline,
    make_faces,
    save_model,
)
from fer_sklearn.persistence import ModelFileError, read_description
from fer_sklearn.persistence._source import tensors_sha256
from fer_sklearn.pretrained._pretrained import WEIGHTS_DIR, export_pretrained

from ..conftest import TINY_NET, auto_tolerance, in_float32

# compares predicted numbers: .ci/run runs it again under forced bf16 and int8
pytestmark = pytest.mark.precision


@pytest.fixture(scope="module")
def model():
    return load_pretrained()


def test_ships_one_lean_save_model_file_per_model():
    assert available_models() == ["accurate", "default", "fast"]
    files = sorted(p.name for p in WEIGHTS_DIR.iterdir())
    assert files == ["accurate.safetensors", "default.safetensors", "fast.safetensors"]
    assert sum(p.stat().st_size for p in WEIGHTS_DIR.iterdir()) <= 15e6  # all models together
    for name in available_models():
        document = read_description(WEIGHTS_DIR / f"{name}.safetensors")
        assert document["format"] == 2 and document["version"] and document["metrics"]
        with safe_open(WEIGHTS_DIR / f"{name}.safetensors", "pt") as file:  # fp16: half the size
            assert {file.get_slice(k).get_dtype() for k in file.keys()} <= {"F16", "I64"}


def _network_from_the_file(path):
    """The network of a shipped file built by hand: its configuration, its fp16 tensors as float32.

    Independent of the loader: the description's module node and the raw tensors only.
    """
    node = read_description(path)["model"]["steps"][-1][1]["params"]["module"]
    tensors = {k.split("module_.", 1)[1]: v.float() if v.is_floating_point() else v
               for k, v in load_file(path).items() if "module_." in k}

    def build(spec):
        if spec["$module"] == "fer_sklearn.EnsembleCNN":
            return EnsembleCNN([build(member) for member in spec["members"]])
        kwargs = {k: v for k, v in spec["kwargs"].items() if k != "act_layer"}
        return EmotionCNN(**kwargs)

    network = build(node)
    network.load_state_dict(tensors)
    return network.eval()


@pytest.mark.parametrize("name", ["accurate", "default", "fast"])
def test_shipped_file_predicts_as_its_network_and_round_trips_identically(name, tmp_path):
    faces = make_faces(3, size=48, random_state=0)[0]
    model = load_pretrained(name, device="cpu").set_params(clf__precision="32")
    assert all(v.dtype != torch.float16 for v in model[-1].module_.state_dict().values())
    proba = model.predict_proba(faces)
    network = _network_from_the_file(WEIGHTS_DIR / f"{name}.safetensors")
    with torch.no_grad():
        logits = network(torch.as_tensor(model[:-1].transform(faces)[:, None]))
    np.testing.assert_allclose(proba, torch.softmax(logits, 1).numpy(), atol=2e-6)
    # saved again (float32) and exported again (float16): the same predictions, to the bit
    again = load_model(save_model(model, tmp_path / "saved.safetensors"))
    np.testing.assert_array_equal(again.predict_proba(faces), proba)
    document = read_description(WEIGHTS_DIR / f"{name}.safetensors")
    path = export_pretrained(load_model(WEIGHTS_DIR / f"{name}.safetensors"), name,
                             directory=tmp_path, version=document["version"],
                             metrics=document["metrics"])
    assert read_description(path)["sha256"] == document["sha256"]
    assert load_file(path).keys() == load_file(WEIGHTS_DIR / f"{name}.safetensors").keys()
    exported = load_model(path).set_params(clf__precision="32")
    np.testing.assert_array_equal(exported.predict_proba(faces), proba)
    assert exported[-1].int8_ranges_ == model[-1].int8_ranges_  # they travel in the file


def test_is_a_fitted_pipeline_with_emotion_names(model):
    check_is_fitted(model)
    assert tuple(model.classes_) == tuple(sorted(EMOTIONS))  # np.unique's, as fitted models
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
    path = export_pretrained(pipe, "tiny", directory=tmp_path, version="v1", metrics={"a": 1})
    assert path == tmp_path / "tiny.safetensors"
    export_pretrained([pipe, pipe], "pair", directory=tmp_path)  # an ensemble, in one file
    monkeypatch.setattr("fer_sklearn.pretrained._pretrained.WEIGHTS_DIR", tmp_path)
    assert available_models() == ["pair", "tiny"]
    loaded = load_pretrained("tiny")
    assert loaded.pretrained_ == {"name": "tiny", "version": "v1",
                                  "sha256": tensors_sha256(load_file(path))}
    assert read_description(path)["metrics"] == {"a": 1}
    # fp16 storage: the probabilities agree to about 3 decimals
    np.testing.assert_allclose(loaded.predict_proba(X[:20]), pipe.predict_proba(X[:20]), atol=5e-3)
    pair = load_pretrained("pair")
    assert len(pair[-1].module_.members) == 2
    np.testing.assert_allclose(pair.predict_proba(X[:20]), loaded.predict_proba(X[:20]), atol=1e-5)


@pytest.mark.parametrize("labels", ["names", "codes"])
def test_export_keeps_the_fitted_classes_and_labels(tmp_path, faces, monkeypatch, labels):
    X, y = faces
    if labels == "codes":
        y = np.array([EMOTIONS.index(name) for name in y])
    pipe = make_emotion_pipeline(random_state=0, **TINY_NET).fit(X, y)  # names sort alphabetically
    export_pretrained([pipe], "mine", directory=tmp_path)  # a list of one: one network
    monkeypatch.setattr("fer_sklearn.pretrained._pretrained.WEIGHTS_DIR", tmp_path)
    loaded = load_pretrained("mine", device="cpu")
    assert loaded.classes_.tolist() == pipe.classes_.tolist()
    agree = (loaded.predict(X) == pipe.predict(X)).mean()
    assert agree > 0.97  # fp16 weights may flip a near tie


@pytest.mark.fer2013
def test_beats_chance_by_far_on_public_test(fer2013_csv, model):
    X, y = load_fer2013(fer2013_csv, usage="PublicTest", return_X_y=True)
    X, names = X[:600], np.array(EMOTIONS)[y[:600]]
    accuracy = {name: (load_pretrained(name).predict(X) == names).mean()
                for name in available_models()}
    # all of PublicTest: fast 64.9%, default 66.4%, accurate 70.4%; chance 0.14, majority 0.25
    assert min(accuracy.values()) > 0.6
    assert accuracy["accurate"] > accuracy["fast"]


@pytest.mark.fer2013
@pytest.mark.parametrize("name", ["default", "fast"])
def test_auto_keeps_float32s_answers_within_its_precisions_error(fer2013_csv, name):
    X, _ = load_fer2013(fer2013_csv, usage="PublicTest", return_X_y=True)
    model = load_pretrained(name, device="cpu")  # all 3,589 faces, as the tolerances were measured
    auto, exact = model.predict_proba(X), in_float32(model).predict_proba(X)
    labels_kept, largest = auto_tolerance(model)
    assert (auto.argmax(1) == exact.argmax(1)).mean() >= labels_kept
    assert np.abs(auto - exact).max() <= largest


def test_shipped_models_carry_their_version_and_weights_sha256(tmp_path, monkeypatch):
    model = load_pretrained("fast")
    info = model.pretrained_
    assert info.keys() == {"name", "version", "sha256"}
    assert info["name"] == "fast"
    assert info["version"] == read_description(WEIGHTS_DIR / "fast.safetensors")["version"]
    path = WEIGHTS_DIR / "fast.safetensors"
    assert info["sha256"] == tensors_sha256(load_file(path)) == read_description(path)["sha256"]
    report = evaluate(model, *make_faces(14, random_state=0))
    assert report.provenance["model"]["pretrained_version"] == info["version"]
    assert report.provenance["model"]["weights_sha256"] == info["sha256"]
    # a tensor changed in a copy (its description, and the sha256 in it, kept) is refused
    with safe_open(path, "pt") as file:
        metadata = file.metadata()
    tensors = load_file(path)
    key = sorted(k for k, v in tensors.items() if v.is_floating_point())[0]
    tensors[key] = tensors[key].clone()
    tensors[key].view(-1)[0] += 1
    save_file(tensors, tmp_path / "fast.safetensors", metadata=metadata)
    with pytest.raises(ModelFileError, match="sha256 differs"):
        load_model(tmp_path / "fast.safetensors")
    monkeypatch.setattr("fer_sklearn.pretrained._pretrained.WEIGHTS_DIR", tmp_path)
    with pytest.raises(ValueError, match="sha256 differs"):
        load_pretrained("fast")

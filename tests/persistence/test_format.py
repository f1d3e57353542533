"""save_model / load_model: round trips, and broken or tampered files refused with a ValueError.

Budget: about 10 s (tiny networks; the shipped models are loaded, not trained).
"""

import copy
import json
import os
import pickle
import stat

import joblib
import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from fer_sklearn import (
    EMOTIONS,
    EmotionClassifier,
    ImageAugmenter,
    load_model,
    load_pretrained,
    make_emotion_pipeline,
    save_model,
)
from fer_sklearn.persistence import FORMAT, ModelFileError
from fer_sklearn.utils import atomic_write

from ..conftest import TINY_NET

# compares predicted numbers: .ci/run runs it again under forced bf16 and int8
pytestmark = pytest.mark.precision


@pytest.fixture(scope="module")
def saved(tmp_path_factory, fitted_pipeline):
    """The session's tiny fitted pipeline, saved."""
    return save_model(fitted_pipeline, tmp_path_factory.mktemp("saved") / "model.safetensors")


def assert_same_predictions(loaded, model, X):
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    assert loaded.classes_.dtype == model.classes_.dtype
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("labels", ["names", "codes"])
def test_pipeline_round_trip_with_string_and_integer_labels(labels, faces, tmp_path):
    X, y = faces
    if labels == "codes":
        y = np.array([EMOTIONS.index(name) for name in y])
    model = make_emotion_pipeline(random_state=0, **TINY_NET).set_params(resize__size=24)
    model.fit(X, y)
    loaded = load_model(save_model(model, tmp_path / "m.safetensors"))
    assert_same_predictions(loaded, model, X)
    assert loaded[-1].history[:, "valid_loss"] == model[-1].history[:, "valid_loss"]
    assert loaded.get_params()["clf__module__width"] == TINY_NET["module__width"]
    assert_same_predictions(pickle.loads(pickle.dumps(loaded)), model, X[:5])
    assert clone(loaded).get_params().keys() == model.get_params().keys()


def test_bare_classifier_with_unusual_parameters_round_trips(faces, tmp_path):
    X, y = faces
    rows = X.reshape(len(X), -1) / 255  # flat rows of (24, -1) images
    clf = EmotionClassifier(max_epochs=1, module__width=4, module__depth=2,
                            module__act_layer=torch.nn.LeakyReLU, image_shape=(24, -1),
                            class_weight={name: 2.0 if name == "disgust" else 1.0
                                          for name in EMOTIONS},
                            augment=ImageAugmenter(max_rotation=5.0), tta=True, tta_shift=1,
                            precision="32", optimizer=torch.optim.AdamW,
                            optimizer__weight_decay=0.01, random_state=0).fit(rows, y)
    loaded = load_model(save_model(clf, tmp_path / "clf.safetensors"))
    assert_same_predictions(loaded, clf, rows[:30])
    assert loaded.get_params()["image_shape"] == (24, -1)
    assert loaded.augment == clf.augment and loaded.optimizer is torch.optim.AdamW
    np.testing.assert_array_equal(loaded.class_weight_, clf.class_weight_)


def test_ensemble_with_a_residual_member_round_trips_int8_included(faces, tmp_path):
    from fer_sklearn import EmotionCNN
    from fer_sklearn.deploy import quantize
    from fer_sklearn.neural_net import EnsembleCNN

    X, y = faces
    members = [EmotionCNN(width=4, depth=2), EmotionCNN(width=4, depth=2, convs_per_block=2,
                                                        hidden_units=0, residual=True)]
    clf = EmotionClassifier(module=EnsembleCNN(members), max_epochs=1, precision="32",
                            random_state=0).fit(X, y)
    loaded = load_model(save_model(clf, tmp_path / "ensemble.safetensors"))
    assert loaded.module_.members[1].config["residual"] is True
    assert_same_predictions(loaded, clf, X[:20])
    int8 = quantize(clf, X, n_images=32)
    again = load_model(save_model(int8, tmp_path / "int8.safetensors"))
    np.testing.assert_array_equal(again.predict_proba(X[:10]), int8.predict_proba(X[:10]))


@pytest.mark.parametrize("name", ["fast", "accurate"])
def test_shipped_models_round_trip(name, faces, tmp_path):
    model = load_pretrained(name, tta=name == "fast", device="cpu")
    loaded = load_model(save_model(model, tmp_path / f"{name}.safetensors"))
    assert loaded[-1].tta == (name == "fast")
    assert_same_predictions(loaded, model, faces[0][:8])


def test_int8_model_keeps_its_calibration(faces, tmp_path):
    from fer_sklearn.deploy import quantize

    X = faces[0]
    int8 = quantize(load_pretrained("fast", device="cpu"), X, n_images=32)
    loaded = load_model(save_model(int8, tmp_path / "int8.safetensors"))
    np.testing.assert_array_equal(loaded[-1].int8_calibration_, int8[-1].int8_calibration_)
    np.testing.assert_array_equal(loaded.predict_proba(X[:10]), int8.predict_proba(X[:10]))


def test_load_model_reads_the_shipped_files_and_moves_devices(saved):
    from fer_sklearn.pretrained import WEIGHTS_DIR

    shipped = load_model(WEIGHTS_DIR / "default.safetensors")
    assert tuple(shipped.classes_) == tuple(sorted(EMOTIONS))
    assert load_model(saved, device="cpu")[-1].device == "cpu"


def test_load_model_reads_files_and_points_names_to_load_pretrained():
    with pytest.raises(ValueError, match=r"no model file at fast \(a shipped model loads by name "
                                         r"with load_pretrained\)"):
        load_model("fast")
    with pytest.raises(ValueError, match="no model file at runs/huge.safetensors$"):
        load_model("runs/huge.safetensors")


def test_no_pickle_on_the_load_path(saved, monkeypatch, faces):
    def refuse(*args, **kwargs):
        raise AssertionError("unpickling on the load path")

    for target in ("pickle.load", "pickle.loads", "torch.load", "pickle.Unpickler"):
        monkeypatch.setattr(target, refuse)
    assert load_model(saved).predict(faces[0][:2]).shape == (2,)
    assert load_pretrained("fast").predict(faces[0][:2]).shape == (2,)


# ------------------------------------------------------------------ refused on save
@pytest.mark.parametrize("name, value, message", [
    ("module", torch.nn.Linear, "a class that a model file may not name"),
    ("module", torch.nn.Linear(2, 2), "neither a plain value nor one of the library's networks"),
    ("callbacks", [("log", print)], "cannot store model.clf.callbacks"),
    ("optimizer__betas", torch.zeros(2), "cannot store model.clf.optimizer__betas"),
])
def test_what_cannot_be_stored_is_refused_on_save(name, value, message, fitted_pipeline,
                                                  tmp_path):
    model = copy.deepcopy(fitted_pipeline)
    setattr(model[-1], name, value)
    with pytest.raises(ValueError, match=message):
        save_model(model, tmp_path / "m.safetensors")
    assert not list(tmp_path.iterdir())  # no partial file is left


def test_a_saved_file_has_the_umask_permissions(saved):
    umask = os.umask(0o022)
    os.umask(umask)
    assert saved.stat().st_mode & 0o777 == 0o666 & ~umask


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path) as partial:
        partial.write_text("half")
        raise RuntimeError("killed while writing")
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]
    assert path.read_text() == "old"
    with atomic_write(path) as partial:
        partial.write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]
    assert path.read_text() == "new"


def test_other_estimators_and_unfitted_ones_are_refused(tmp_path):
    with pytest.raises(ValueError, match="stores the library's pipelines.*joblib"):
        save_model(LogisticRegression(), tmp_path / "m.safetensors")
    with pytest.raises(Exception, match="not fitted"):
        save_model(make_emotion_pipeline(), tmp_path / "m.safetensors")


# ------------------------------------------------------------------ broken and tampered files
def rewrite(source, target, *, document=None, tensors=None):
    """A copy of a model file with its description and/or tensors edited in place."""
    with safe_open(source, "pt") as file:
        description = json.loads(file.metadata()["fer_sklearn"])
    weights = load_file(source)
    if document:
        document(description)
    if tensors:
        tensors(weights)
    save_file(weights, target, metadata={"fer_sklearn": json.dumps(description)})
    return target


def _normalize(doc):
    return doc["model"]["steps"][2][1]


def _clf(doc):
    return doc["model"]["steps"][3][1]


WEIGHT = "clf.module_.head.5.weight"
TAMPERING = {
    "renamed tensor": (dict(tensors=lambda t: t.update(x=t.pop(WEIGHT))), "missing tensor"),
    "extra tensor": (dict(tensors=lambda t: t.update(extra=torch.zeros(2))), "unexpected tensor"),
    "wrong shape": (dict(tensors=lambda t: t.update({WEIGHT: t[WEIGHT][:3]})), "has shape"),
    "wrong dtype": (dict(tensors=lambda t: t.update({WEIGHT: t[WEIGHT].int()})), "has dtype I32"),
    "nan weights": (dict(tensors=lambda t: t[WEIGHT].fill_(float("nan"))), "NaN or infinite"),
    "changed weights": (dict(tensors=lambda t: t[WEIGHT].mul_(2)), "their sha256 differs"),
    "bad sha256": (dict(document=lambda d: d.update(sha256="abc")), "sha256 must be 64"),
    "format 1": (dict(document=lambda d: d.update(format=1)),
                 "model format 1, which is no longer read"),
    "missing key": (dict(document=lambda d: _normalize(d).pop("fitted")), "missing key 'fitted'"),
    "unexpected key": (dict(document=lambda d: d.update(code="x")), "unexpected key 'code'"),
    "missing fitted value": (dict(document=lambda d: _normalize(d)["fitted"].pop("scale_")),
                             "missing key 'scale_'"),
    "bad fitted value": (dict(document=lambda d: _normalize(d)["fitted"].update(scale_=-1)),
                         "scale_: expected a positive number"),
    "unknown parameter": (dict(document=lambda d: _clf(d)["params"].update(hook=1)),
                          "unknown parameter 'hook'"),
    "unknown class": (dict(document=lambda d: _normalize(d).update({"class": "os.system"})),
                      "unknown class 'os.system'"),
    "unknown class as a value": (
        dict(document=lambda d: _clf(d)["params"].update(optimizer={"$class": "builtins.eval"})),
        "unknown class 'builtins.eval'"),
    "unknown module": (
        dict(document=lambda d: _clf(d)["params"].update(
            module={"$module": "subprocess.Popen", "kwargs": {"args": ["true"]}})),
        "unknown class 'subprocess.Popen'"),
    "future format": (dict(document=lambda d: d.update(format=FORMAT + 1)),
                      f"model format {FORMAT + 1}, from a newer fer-sklearn.*upgrade"),
    "huge network": (dict(document=lambda d: _clf(d)["params"].update(module__width=10**6)),
                     "has shape"),
    "mismatched classes": (
        dict(document=lambda d: _clf(d)["fitted"]["classes_"]["$array"].pop()),
        "has shape"),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampered_file_gives_a_clear_value_error(case, saved, tmp_path):
    edits, message = TAMPERING[case]
    path = rewrite(saved, tmp_path / "tampered.safetensors", **edits)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)
    assert issubclass(ModelFileError, ValueError)


def test_a_named_class_is_never_imported_nor_called(saved, tmp_path):
    sentinel = tmp_path / "ran"
    popen = {"$object": "subprocess.Popen", "params": {"args": ["touch", str(sentinel)]}}
    path = rewrite(saved, tmp_path / "evil.safetensors",
                   document=lambda d: _clf(d)["params"].update(augment=popen))
    with pytest.raises(ValueError, match="unknown class 'subprocess.Popen'"):
        load_model(path)
    assert not sentinel.exists()


@pytest.mark.parametrize("keep", [0, 7, 100, -1000, -1])
def test_truncated_file(keep, saved, tmp_path):
    data = saved.read_bytes()
    path = tmp_path / "truncated.safetensors"
    path.write_bytes(data[:keep])
    with pytest.raises(ValueError, match="truncated or not a safetensors file"):
        load_model(path)


def test_not_a_model_file(tmp_path):
    save_file({"x": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="without a fer-sklearn model description"):
        load_model(tmp_path / "plain.safetensors")
    save_file({"x": torch.zeros(2)}, tmp_path / "text.safetensors", metadata={"fer_sklearn": "{"})
    with pytest.raises(ValueError, match="not valid JSON"):
        load_model(tmp_path / "text.safetensors")
    with pytest.raises(ValueError, match="no model file at"):
        load_model(tmp_path / "missing.safetensors")


def test_a_format_1_json_config_is_no_longer_read(tmp_path):
    config = {"format": 1, "classes": list(EMOTIONS), "size": 48,
              "normalize": {"mean": 130.0, "scale": 78.0},
              "members": [{"module": {"width": 16}, "weights": "s16.safetensors"}]}
    (tmp_path / "fast.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="JSON model config \\(format 1\\) is no longer read"):
        load_model(tmp_path / "fast.json")


def test_the_command_line_reads_save_model_files(saved, tmp_path, capsys):
    from PIL import Image

    from fer_sklearn.cli import main

    Image.new("L", (24, 24), 90).save(tmp_path / "face.png")
    assert main(["predict", "--no-detect", str(tmp_path / "face.png"), "--model", str(saved)]) == 0
    assert ",ok," in capsys.readouterr().out
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(saved.read_bytes()[:-50])
    assert main(["predict", str(tmp_path / "face.png"), "--model", str(broken)]) == 2
    assert "truncated or not a safetensors file" in capsys.readouterr().err


@pytest.fixture(scope="module")
def fast_model():
    return load_pretrained("fast", device="cpu")


def test_load_model_names_a_joblib_file_and_how_to_open_it(fast_model, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(make_emotion_pipeline(), path)
    with pytest.raises(ValueError, match=r"joblib or pickle file.*joblib.load\(path\).*trust"):
        load_model(path)
    compressed = tmp_path / "model.z"
    joblib.dump(make_emotion_pipeline(), compressed, compress=3)
    with pytest.raises(ValueError, match="joblib or pickle file"):
        load_model(compressed)


def test_saved_models_respect_the_umask(fast_model, tmp_path):
    previous = os.umask(0o022)
    try:
        path = save_model(fast_model, tmp_path / "fast.safetensors")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["fast.safetensors"]  # no partial file left

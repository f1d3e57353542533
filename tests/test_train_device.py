"""The GPU run's script (benchmarks/train_device.py), dry-run end to end on the CPU.

It writes the same files as on the GPU machine, and its output exports into
models that ``load_pretrained`` reads. Budget: about 90 s on 2 CPU cores (six
training processes), hence ``slow``.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from fer_sklearn import EMOTIONS, EmotionCNN, make_faces

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _script(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    """Train every member and student for one epoch on synthetic 48x48 faces."""
    folder = tmp_path_factory.mktemp("device")
    X, y = make_faces(224, size=48, random_state=0)
    usage = np.array(["Training"] * 160 + ["PublicTest"] * 64)
    np.savez(folder / "faces.npz", X=X.astype(np.uint8), y=y, usage=usage)
    train_device = _script("train_device")
    out = folder / "out"
    train_device.main(["--data", str(folder / "faces.npz"), "--out", str(out), "--work",
                       str(folder / "work"), "--max-epochs", "1", "--device", "cpu"])
    return train_device, out


@pytest.mark.slow
def test_dry_run_writes_one_file_per_model_and_the_results(dry_run):
    train_device, out = dry_run
    names = list(train_device.MEMBERS) + list(train_device.STUDENTS)
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted([f"{n}.safetensors" for n in names] + ["results.json", "train_device.log"])
    assert len(files) <= 8  # what comes back from the GPU machine
    results = json.loads((out / "results.json").read_text())
    assert set(results["members"]) == set(train_device.MEMBERS)
    assert set(results["students"]) == set(train_device.STUDENTS)
    for record in [*results["members"].values(), *results["students"].values()]:
        assert record["n_epochs"] == 1 and 0 <= record["public_test_accuracy"] <= 1
        assert record["images_per_s"] > 0 and record["seconds_per_epoch"] > 0
    assert results["students"]["s16"]["teachers"] == list(train_device.MEMBERS)
    assert results["ensemble"]["members"] == list(train_device.MEMBERS)
    assert results["machine"]["card"] == "CPU" and results["train"]["batch_size"] > 0
    log = (out / "train_device.log").read_text()
    assert "results (CPU" in log


@pytest.mark.slow
def test_network_files_are_fp16_and_load_without_pickle(dry_run):
    train_device, out = dry_run
    net, config = train_device.load_network(out / "m40p3.safetensors", "cpu", None)
    assert isinstance(net, EmotionCNN) and config["module"]["pool_size"] == 3
    assert config["kind"] == "member" and "mean" in config["normalize"]
    state = load_file(str(out / "s16.safetensors"))
    assert {v.dtype for k, v in state.items() if "num_batches" not in k} == {torch.float16}


@pytest.mark.slow
def test_export_makes_the_three_shipped_names(dry_run, tmp_path, monkeypatch):
    _, out = dry_run
    export = _script("export_device")
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "old.json").write_text("{}")
    export.main([str(out), "--accurate", "m40", "m40p3", "m32d3", "--default", "s24", "--fast", "s16",
                 "--weights", str(weights)])
    assert sorted(p.name for p in weights.glob("*.json")) == ["accurate.json", "default.json", "fast.json"]
    monkeypatch.setattr("fer_sklearn.pretrained._pretrained.WEIGHTS_DIR", weights)
    from fer_sklearn import available_models, load_pretrained
    assert available_models() == ["accurate", "default", "fast"]
    faces = make_faces(6, size=48, random_state=1)[0]
    for name in available_models():
        model = load_pretrained(name, device="cpu")
        assert tuple(model.classes_) == EMOTIONS
        proba = model.predict_proba(faces)
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert len(load_pretrained("accurate", device="cpu")[-1].module_.members) == 3

"""The GPU run's script (benchmarks/train_device.py), dry-run end to end on the CPU.

It writes the same files as on the GPU machine, and its output exports into
models that ``load_pretrained`` reads. Budget: about 90 s on 2 CPU cores (six
training processes), hence ``slow``; the recipe, speed-probe, warm-start and
``compare_batch_sizes.py`` tests train tiny networks, 5 s together.
"""

import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ._scripts import load_script
from fer_sklearn import EMOTIONS, EmotionCNN, make_faces
from fer_sklearn.pretrained._pretrained import WEIGHTS_DIR


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    """Train every member and student for one epoch on synthetic 48x48 faces."""
    folder = tmp_path_factory.mktemp("device")
    X, y = make_faces(224, size=48, random_state=0)
    usage = np.array(["Training"] * 160 + ["PublicTest"] * 64)
    np.savez(folder / "faces.npz", X=X.astype(np.uint8), y=y, usage=usage)
    train_device = load_script("train_device")
    out, init = folder / "out", folder / "init"
    init.mkdir()  # the fast student starts from the shipped model, as run 2 will (RESULTS.md)
    shutil.copy(WEIGHTS_DIR / "fast.safetensors", init / "s16.safetensors")
    train_device.main(["--data", str(folder / "faces.npz"), "--out", str(out), "--work",
                       str(folder / "work"), "--max-epochs", "1", "--device", "cpu",
                       "--batch-size", "64", "--mixup", "0.2", "--init-dir", str(init)])
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
    assert results["machine"]["card"] == "CPU"
    # the recipe given on the command line reaches every training process
    assert results["train"]["batch_size"] == 64 and results["train"]["mixup"] == 0.2
    for record in [*results["members"].values(), *results["students"].values()]:
        assert record["batch_size"] == 64 and record["lr"] == pytest.approx(2e-3 * 0.5**0.5)
    log = (out / "train_device.log").read_text()
    assert "results (CPU" in log
    assert "[s16] starting from" in log and "[s24] starting from" not in log


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
    export = load_script("export_device")
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "old.json").write_text("{}")
    (weights / "s16.safetensors").write_bytes(b"")
    export.main([str(out), "--accurate", "m40", "m40p3", "m32d3", "--default", "s24", "--fast", "s16",
                 "--weights", str(weights)])
    assert sorted(p.name for p in weights.iterdir()) == ["accurate.safetensors", "default.safetensors",
                                                         "fast.safetensors"]
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


def _tiny_data(train_device, n=48):
    X, y = make_faces(n, size=48, random_state=2)
    batches = train_device.FaceBatches(X.astype(np.uint8), y, torch.device("cpu"), 128.0, 64.0,
                                       torch.contiguous_format)
    return batches


TINY = dict(module=dict(width=4, depth=2, hidden_units=0), seed=0)


def test_recipe_scales_the_learning_rate_with_the_batch():
    train_device = load_script("train_device")
    assert train_device.recipe()["lr"] == train_device.TRAIN["lr"]
    assert train_device.recipe(512)["lr"] == pytest.approx(2 * 2e-3)  # AdamW: square root
    sgd = train_device.recipe(512, "sgd")
    assert sgd["lr"] == pytest.approx(4 * 0.02) and sgd["nesterov"] and sgd["weight_decay"] == 5e-4
    assert train_device.recipe(512, lr=1e-3)["lr"] == 1e-3
    with pytest.raises(ValueError, match="batch_size"):
        train_device.recipe(0)


def test_sgd_with_mixup_trains_and_records_its_settings():
    train_device = load_script("train_device")
    data = _tiny_data(train_device)
    net = train_device.build(TINY, torch.device("cpu"), torch.contiguous_format)
    before = [p.detach().clone() for p in net.parameters()]
    settings = train_device.recipe(16, "sgd", mixup=0.4)
    record, = train_device.fit([net], data, data, device=torch.device("cpu"), precision="32", budget_s=60,
                               max_epochs=1, train_settings=settings)
    assert record["steps"] == 3 and record["batch_size"] == 16 and record["lr"] == pytest.approx(0.0025)
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))
    x = data.images(torch.arange(4))
    mixed, perm, lam = train_device.mix(x, 0.4, np.random.default_rng(0), torch.Generator())
    assert 0 <= lam <= 1 and sorted(perm.tolist()) == [0, 1, 2, 3]
    torch.testing.assert_close(mixed, lam * x + (1 - lam) * x[perm])
    assert train_device.mix(x, 0.0, None, None)[0] is x


def test_speed_probe_and_warm_start_from_a_weights_only_file(tmp_path):
    train_device = load_script("train_device")
    data = _tiny_data(train_device)
    speeds = train_device.probe_speed(TINY, data, torch.device("cpu"), "32", torch.contiguous_format,
                                      batch_sizes=(8, 16), steps=1)
    assert set(speeds) == {8, 16} and min(speeds.values()) > 0
    from safetensors.torch import save_file
    source = train_device.build(dict(TINY, seed=5), torch.device("cpu"), torch.contiguous_format)
    save_file({k: v.half().contiguous() for k, v in source.state_dict().items() if v.is_floating_point()}
              | {k: v for k, v in source.state_dict().items() if not v.is_floating_point()},
              tmp_path / "net.safetensors")  # like the shipped files: no settings in the metadata
    net = train_device.warm_start(train_device.build(TINY, torch.device("cpu"), torch.contiguous_format),
                                  tmp_path / "net.safetensors")
    for (name, a), b in zip(source.state_dict().items(), net.state_dict().values()):
        torch.testing.assert_close(a.half().float() if a.is_floating_point() else a, b, msg=name)


def test_warm_start_takes_a_shipped_model_file():
    """Run 2 copies ``weights/fast.safetensors`` into ``--init-dir`` as ``s16.safetensors``."""
    from fer_sklearn import load_pretrained

    train_device = load_script("train_device")
    net = train_device.warm_start(train_device.build(train_device.STUDENTS["s16"], torch.device("cpu"),
                                                     torch.contiguous_format),
                                  WEIGHTS_DIR / "fast.safetensors")
    shipped = load_pretrained("fast", device="cpu")[-1].module_.state_dict()
    assert net.state_dict().keys() == shipped.keys()
    for name, value in net.state_dict().items():
        torch.testing.assert_close(value, shipped[name], rtol=0, atol=0, msg=name)


def test_compare_batch_sizes_writes_one_curve_per_recipe(tmp_path):
    X, y = make_faces(96, size=48, random_state=3)
    usage = np.array(["Training"] * 64 + ["PublicTest"] * 32)
    np.savez(tmp_path / "faces.npz", X=X.astype(np.uint8), y=y, usage=usage)
    compare = load_script("compare_batch_sizes")
    assert compare.parse_recipe("512:sgd:0.2") == dict(batch_size=512, optimizer="sgd", mixup=0.2)
    out = tmp_path / "curves.json"
    compare.main(["--data", str(tmp_path / "faces.npz"), "--net", "s12", "--epochs", "2",
                  "--recipes", "16:adamw", "32:sgd:0.2", "--out", str(out)])
    results = json.loads(out.read_text())
    assert [r["recipe"] for r in results["runs"]] == ["16:adamw", "32:sgd:0.2"]
    assert results["n_train"] == 64 and results["n_valid"] == 32
    for run in results["runs"]:
        assert len(run["curve"]) == 2 and run["best_accuracy"] == max(run["curve"])
    assert results["runs"][1]["settings"]["lr"] == pytest.approx(0.02 / 4)

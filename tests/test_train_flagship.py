"""Flagship run 3's driver (benchmarks/train_flagship.py), dry-run end to end on the CPU.

The dry run is the prepared GPU command on 224 + 96 synthetic faces, members 4
wide, one epoch, students warm-started from the shipped ones: it writes the files
the GPU run writes and its output exports into models ``load_pretrained`` reads.
About 30 s on 2 shared cores, hence ``slow``; the package helpers it uses
(FLOP counting, the lever ladder, the epoch-augmented classifier, packing) have
cheap tests of their own below.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

from ._scripts import load_script
from fer_sklearn import EMOTIONS, EmotionCNN, ImageAugmenter, make_faces
from fer_sklearn.pretrained._pretrained import WEIGHTS_DIR
from fer_sklearn.training import (FastTrainingClassifier, pack_networks, plan_epochs, read_packed,
                                  speed_levers, training_flops)


@pytest.fixture(scope="module")
def synthetic_fer(tmp_path_factory):
    """224 + 96 synthetic faces as the GPU run reads FER2013, and the shipped students' files."""
    folder = tmp_path_factory.mktemp("flagship")
    X, y = make_faces(320, size=48, random_state=0)
    usage = np.array(["Training"] * 224 + ["PublicTest"] * 96)
    np.savez(folder / "faces.npz", X=X.astype(np.uint8), y=y, usage=usage)
    init = folder / "init"  # as the GPU run carries them in .devdata/init
    init.mkdir()
    for name in ("fast.safetensors", "default.safetensors"):
        shutil.copy(WEIGHTS_DIR / name, init)
    return folder


def run_dry(folder, out, *members):
    """The prepared GPU command with the dry-run flags (one thread, as a GPU run is alone)."""
    flagship = load_script("train_flagship")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = flagship.main([
            "--data", str(folder / "faces.npz"), "--out", str(out), "--init-dir",
            str(folder / "init"), "--device", "cpu", "--tiny", "--batch-size", "32", "--epochs",
            "1", "--min-epochs", "1", "--smoke-steps", "1", "--smoke-batches", "2",
            "--student-epochs", "1", "--compile", "off", "--deadline", "900",
            *(["--members", *members] if members else [])])
    finally:
        torch.set_num_threads(threads)
    return flagship, out, results


@pytest.fixture(scope="module")
def dry_run(synthetic_fer):
    """The run-3 command on synthetic faces, as RESULTS.md gives it."""
    return run_dry(synthetic_fer, synthetic_fer / "out")


@pytest.mark.slow
def test_dry_run_writes_the_files_of_the_gpu_run(dry_run):
    flagship, out, results = dry_run
    files = sorted(p.name for p in out.iterdir())
    assert files == ["accurate-1.safetensors", "results.json", "students-1.safetensors",
                     "train_flagship.log"]
    assert len(files) <= 8  # what comes back from the GPU machine
    saved = json.loads((out / "results.json").read_text())
    assert list(saved["members"]) == flagship.RUN3 == list(results["members"])
    assert set(saved["students"]) == {"default", "fast"}
    for row in [*saved["members"].values(), *saved["students"].values()]:
        assert row["n_epochs"] == 1 and 0 <= row["public_test_accuracy"] <= 1
        assert row["images_per_s"] > 0 and row["tflops"] > 0
    assert saved["students"]["fast"]["warm_start"].endswith("fast.safetensors")
    assert saved["ensemble"]["members"] == flagship.RUN3
    assert {"tta=False", "tta=True"} <= set(saved["ensemble"])
    # every lever but compile (off in the dry run) measured, the plan within the size cap
    assert [r["lever"] for r in saved["levers"]] == [n for n, _ in flagship.SPEED_LEVERS[:-1]]
    assert all(r["images_per_s"] > 0 for r in saved["levers"])
    assert saved["plan"]["epochs"] == 1 and saved["plan"]["members"] == flagship.RUN3
    flops = saved["flops_per_image"]
    assert flops["v64d3"] > flops["v64a"] > 0 and flops["s24"] > flops["s16"] > 0
    log = (out / "train_flagship.log").read_text()
    assert "speed levers on v64d3" in log and "smoke: distillation and packing ran" in log
    assert log.rstrip().splitlines()[-1].split("] ", 1)[1].startswith("ensemble:")


@pytest.mark.slow
def test_export_turns_the_run_into_the_shipped_models(dry_run, tmp_path, monkeypatch):
    flagship, out, _ = dry_run
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "old.json").write_text("{}")
    total = load_script("export_flagship").main([str(out), "--weights", str(weights)])
    assert 0 < total <= 50e6
    assert sorted(p.name for p in weights.iterdir()) == ["accurate.safetensors",
                                                         "default.safetensors", "fast.safetensors"]
    monkeypatch.setattr("fer_sklearn.pretrained._pretrained.WEIGHTS_DIR", weights)
    from fer_sklearn import load_pretrained
    faces = make_faces(6, size=48, random_state=1)[0]
    for name in ("accurate", "default", "fast"):
        model = load_pretrained(name, device="cpu")
        assert tuple(model.classes_) == EMOTIONS
        np.testing.assert_allclose(model.predict_proba(faces).sum(axis=1), 1, rtol=1e-5)
    assert len(load_pretrained("accurate", device="cpu")[-1].module_.members) == 4


@pytest.mark.slow
def test_run_2_command_trains_run_1s_members_and_exports(synthetic_fer, tmp_path, monkeypatch):
    """The prepared run-2 command (RESULTS.md): run 1's members through the same driver."""
    _, out, results = run_dry(synthetic_fer, tmp_path / "run2", "m40", "m40p3", "m32d3")
    assert list(results["members"]) == ["m40", "m40p3", "m32d3"]
    assert results["members"]["m32d3"]["net"]["convs_per_block"] == 3
    assert results["students"]["default"]["warm_start"].endswith("default.safetensors")
    assert "speed levers on m32d3" in (out / "train_flagship.log").read_text()
    weights = tmp_path / "weights"
    weights.mkdir()
    load_script("export_flagship").main([str(out), "--weights", str(weights)])
    monkeypatch.setattr("fer_sklearn.pretrained._pretrained.WEIGHTS_DIR", weights)
    from fer_sklearn import load_pretrained
    assert len(load_pretrained("accurate", device="cpu")[-1].module_.members) == 3


def test_batch_size_comparison_trains_the_recipe_under_each_setting(synthetic_fer, tmp_path):
    out = tmp_path / "batch_sizes.json"
    results = load_script("compare_batch_sizes").main([
        "--data", str(synthetic_fer / "faces.npz"), "--net", "s12", "--epochs", "2",
        "--limit", "64", "--recipes", "32:adamw", "64:sgd:0.2", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert [r["recipe"] for r in saved["runs"]] == ["32:adamw", "64:sgd:0.2"]
    adamw, sgd = (r["settings"] for r in results["runs"])
    assert adamw["lr"] == pytest.approx(2e-3 * 0.5)  # AdamW: square root of the batch ratio
    assert sgd["lr"] == pytest.approx(0.02 * 0.5) and sgd["mixup"] == 0.2  # SGD: linear
    assert all(len(r["curve"]) == 2 and 0 <= r["best_accuracy"] <= 1 for r in saved["runs"])


@pytest.mark.slow
def test_curves_chart_reads_run_1_and_the_flagship_run(dry_run, tmp_path):
    plot = load_script("plot_device_run")
    run1 = Path(__file__).parents[1] / "benchmarks/results/device-run-1/results.json"
    for results in (run1, dry_run[1] / "results.json"):
        chart = tmp_path / f"{results.parent.name}.png"
        plot.main([str(results), str(chart)])
        assert chart.read_bytes().startswith(b"\x89PNG")


def test_training_flops_counts_forward_and_backward():
    linear = nn.Sequential(nn.Flatten(), nn.Linear(48 * 48, 7))
    # forward x @ W, backward the weights' gradient (the input needs none): 2 x 2 x 2304 x 7
    assert training_flops(linear) == 4 * 48 * 48 * 7
    small, wide = training_flops(EmotionCNN(width=4)), training_flops(EmotionCNN(width=8))
    assert 3 * small < wide < 4 * small  # convolutions grow with the square of the width


def test_speed_levers_measure_each_lever_and_leave_failing_ones_off():
    images, labels = torch.randn(64, 1, 48, 48), torch.randint(7, (64,))
    broken = ("+ a lever torch lacks", dict(no_such_setting=True))
    rows = speed_levers(EmotionCNN(width=2, depth=2), images, labels, None, small_batch=8,
                        large_batch=16, steps=1, log=None,
                        levers=[("baseline", {}), ("+ large batch", dict(large_batch=True)),
                                broken, ("+ channels-last", dict(channels_last=True))])
    assert [r.get("batch_size") for r in rows] == [8, 16, None, 16]
    assert "no_such_setting" in rows[2]["error"]
    assert all(r["images_per_s"] > 0 and r["tflops"] > 0 for r in rows if "error" not in r)
    assert rows[3]["gain"] == pytest.approx(rows[3]["images_per_s"] / rows[1]["images_per_s"])


class CountingAugmenter(ImageAugmenter):
    """Counts its calls and the images it augmented."""

    def __call__(self, images):
        self.calls = getattr(self, "calls", []) + [len(images)]
        return super().__call__(images)


@pytest.fixture(scope="module")
def fast_classifier():
    X, y = make_faces(100, size=48, random_state=4)
    clf = FastTrainingClassifier(module__width=2, module__depth=2, batch_size=32, max_epochs=2,
                                 augment=CountingAugmenter(), random_state=0, verbose=0)
    X = X.astype(np.float32) / 255
    return clf.fit(X[:80], y[:80], X_valid=X[80:], y_valid=y[80:]), X, y


def test_fast_classifier_augments_the_epoch_at_once_and_saves_as_a_plain_one(fast_classifier):
    clf, X, _ = fast_classifier
    assert clf.augmenter_.calls == [64, 64]  # one call an epoch, full batches only, not again
    assert clf.history_[-1, "train_batch_count"] == 80 // 32
    plain = clf.to_classifier()
    assert "epoch_augment" not in plain.get_params() and "compile_train" not in plain.get_params()
    np.testing.assert_allclose(plain.predict_proba(X[:4]), clf.predict_proba(X[:4]))
    assert clone(clf).get_params()["epoch_augment"] is True


def test_packed_networks_split_by_size_and_read_back(fast_classifier, tmp_path):
    clf, X, _ = fast_classifier
    other = FastTrainingClassifier(module__width=3, module__depth=2, max_epochs=1,
                                   validation_fraction=0, random_state=1, verbose=0)
    other.fit(X, fast_classifier[2])
    paths = pack_networks({"a": clf, "b": other}, tmp_path / "nets", info={"a": {"score": 0.5}},
                          max_bytes=1)  # every network in a file of its own
    assert [p.name for p in paths] == ["nets-1.safetensors", "nets-2.safetensors"]
    networks = read_packed(paths)
    assert networks["a"][1]["score"] == 0.5 and networks["b"][1]["module"]["width"] == 3
    for name, original in (("a", clf), ("b", other)):
        np.testing.assert_allclose(networks[name][0].predict_proba(X[:4]),
                                   original.predict_proba(X[:4]), atol=2e-3)
    with pytest.raises(ValueError, match="not a file of pack_networks"):
        read_packed([WEIGHTS_DIR / "fast.safetensors"])


def test_plan_cuts_epochs_before_networks():
    per_epoch, compile_s = {"a": 1.0, "b": 2.0, "c": 1.0}, {"a": 10.0}
    assert plan_epochs(1000, per_epoch, compile_s, 200) == (["a", "b", "c"], 200)
    assert plan_epochs(410, per_epoch, compile_s, 200) == (["a", "b", "c"], 100)  # cut epochs
    assert plan_epochs(410, per_epoch, compile_s, 200, min_epochs=120) == (["a", "b"], 133)
    assert plan_epochs(5, per_epoch, compile_s, 200, min_epochs=50) == (["a"], 0)

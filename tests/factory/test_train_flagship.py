"""The flagship GPU run's commands, dry-run on the CPU: ``factory/train_flagship.py`` and what
reads its folder (``export_run.py``, ``plot_device_run.py``), and ``compare_batch_sizes.py``.

The dry run is the prepared GPU command on 224 + 96 synthetic faces, members 4 wide, one
epoch, students warm-started from the shipped ones: it writes the files the GPU run writes,
and its folder exports into models ``load_pretrained`` reads. Each command runs as it would
on the GPU machine, in a process of its own with one thread. About 60 s on 2 cores (slow).
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer_sklearn import EMOTIONS, load_pretrained, make_faces
from fer_sklearn.pretrained import WEIGHTS_DIR

FACTORY = Path(__file__).resolve().parents[2] / "factory"
RUN3 = ["v64a", "v64s", "v64d3", "r18"]
DRY_RUN = ["--device", "cpu", "--tiny", "--batch-size", "32", "--epochs", "1", "--min-epochs", "1",
           "--smoke-steps", "1", "--smoke-batches", "2", "--student-epochs", "1", "--compile",
           "off", "--deadline", "900"]


def factory(script, *args):
    """Run ``factory/<script>.py`` with ``args`` (one torch thread, as the run is alone)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(FACTORY / f"{script}.py"), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


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


def dry_run(folder, out, *members):
    factory("train_flagship", "--data", folder / "faces.npz", "--out", out, "--init-dir",
            folder / "init", *DRY_RUN, *(["--members", *members] if members else []))
    return json.loads((out / "results.json").read_text())


@pytest.fixture(scope="module")
def run_3(synthetic_fer):
    """The run-3 command on synthetic faces, as factory/RUNS.md gives it."""
    out = synthetic_fer / "out"
    return out, dry_run(synthetic_fer, out)


@pytest.mark.slow
def test_dry_run_writes_the_files_of_the_gpu_run(run_3):
    out, results = run_3
    files = sorted(p.name for p in out.iterdir())
    assert files == ["accurate-1.safetensors", "results.json", "students-1.safetensors",
                     "train_flagship.log"]
    assert len(files) <= 8  # what comes back from the GPU machine
    assert all(p.stat().st_size <= 16 * 2**20 for p in out.iterdir())  # each file's limit
    assert list(results["members"]) == RUN3 and set(results["students"]) == {"default", "fast"}
    for row in [*results["members"].values(), *results["students"].values()]:
        assert row["n_epochs"] == 1 and row["images_per_s"] > 0 and row["tflops"] > 0
    assert results["students"]["fast"]["warm_start"].endswith("fast.safetensors")
    assert results["ensemble"]["members"] == RUN3
    assert {"tta=False", "tta=True"} <= set(results["ensemble"])
    # every lever measured (compile is off in the dry run), the plan within the size cap
    levers = [r["lever"] for r in results["levers"]]
    assert levers[0].startswith("baseline") and len(levers) == 6
    assert not any("compile" in lever for lever in levers)
    assert all(r["images_per_s"] > 0 and r["tflops"] > 0 for r in results["levers"])
    plan = results["plan"]
    assert plan["epochs"] == 1 and plan["members"] == RUN3
    assert 0 < plan["shipped_bytes_fp16"] <= 50e6
    # checked before training at full size (the dry run's members are 4 wide): the cap, and
    # what the GPU machine returns (at most 8 files of at most 16 MiB)
    full = results["returned_files"]
    assert plan["shipped_bytes_fp16"] < 40e6 < full["shipped_bytes_fp16"] <= 50e6
    assert len(full["files"]) + 2 <= 8 and max(full["files"].values()) <= 16 * 2**20
    assert results["members"]["r18"]["net"]["residual"] is True
    assert results["machine"]["bf16_peak_tflops"] is None  # a CPU: no share of a card's rate
    flops = results["flops_per_image"]
    assert flops["v64d3"] > flops["v64a"] > 0 and flops["s24"] > flops["s16"] > 0
    log = (out / "train_flagship.log").read_text()
    widest = max(RUN3, key=flops.get)  # the levers are measured on the costliest member
    assert f"speed levers on {widest}" in log and "smoke: distillation and packing ran" in log
    assert log.rstrip().splitlines()[-1].split("] ", 1)[1].startswith("ensemble:")


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.slow
def test_export_turns_the_run_into_the_shipped_models_the_same_every_time(run_3, tmp_path,
                                                                         monkeypatch):
    out, _ = run_3
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "old.safetensors").write_text("{}")  # a model no longer shipped goes
    factory("export_run", out, "--weights", weights)
    assert sorted(p.name for p in weights.iterdir()) == ["accurate.safetensors",
                                                         "default.safetensors", "fast.safetensors"]
    again = tmp_path / "again"  # an empty folder: nothing to compare with, so it writes
    again.mkdir()
    factory("export_run", out, "--weights", again)
    assert _digests(again) == _digests(weights)  # the export reproduces its files, byte for byte
    monkeypatch.setattr("fer_sklearn.pretrained._pretrained.WEIGHTS_DIR", weights)
    faces = make_faces(6, size=48, random_state=1)[0]
    for name in ("accurate", "default", "fast"):
        model = load_pretrained(name, device="cpu")
        assert tuple(model.classes_) == tuple(sorted(EMOTIONS))  # as any classifier's
        np.testing.assert_allclose(model.predict_proba(faces).sum(axis=1), 1, rtol=1e-5)
    assert len(load_pretrained("accurate", device="cpu")[-1].module_.members) == 4


@pytest.mark.slow
def test_export_replaces_a_shipped_model_only_where_the_run_beats_it(run_3, synthetic_fer,
                                                                     tmp_path):
    out, _ = run_3
    weights = tmp_path / "weights"
    shutil.copytree(WEIGHTS_DIR, weights)
    shipped = _digests(weights)
    # scored on the run's PublicTest (here 96 drawn faces); no model gains 50 points
    printed = factory("export_run", out, "--weights", weights, "--data",
                      synthetic_fer / "faces.npz", "--min-gain", "0.5")
    assert printed.count("does not replace the shipped") == 3, printed
    assert _digests(weights) == shipped
    printed = factory("export_run", out, "--weights", weights, "--data",
                      synthetic_fer / "faces.npz", "--min-gain", "-1")
    assert printed.count("replaces the shipped") == 3 and "does not" not in printed
    changed = _digests(weights)
    assert all(changed[f"{n}.safetensors"] != shipped[f"{n}.safetensors"]
               for n in ("accurate", "default", "fast"))


@pytest.mark.slow
def test_run_2_command_trains_run_1s_members_and_exports(synthetic_fer, tmp_path, monkeypatch):
    """The prepared run-2 command (RUNS.md): run 1's members through the same driver."""
    out = tmp_path / "run2"
    results = dry_run(synthetic_fer, out, "m40", "m40p3", "m32d3")
    assert list(results["members"]) == ["m40", "m40p3", "m32d3"]
    assert results["members"]["m32d3"]["net"]["convs_per_block"] == 3
    assert results["students"]["default"]["warm_start"].endswith("default.safetensors")
    assert "speed levers on m32d3" in (out / "train_flagship.log").read_text()
    weights = tmp_path / "weights"
    weights.mkdir()
    factory("export_run", out, "--weights", weights)
    monkeypatch.setattr("fer_sklearn.pretrained._pretrained.WEIGHTS_DIR", weights)
    assert len(load_pretrained("accurate", device="cpu")[-1].module_.members) == 3


@pytest.mark.slow
def test_curves_chart_reads_run_1_and_the_flagship_run(run_3, tmp_path):
    run1 = FACTORY / "runs" / "device-run-1" / "results.json"
    for results in (run1, run_3[0] / "results.json"):
        chart = tmp_path / f"{results.parent.name}.png"
        factory("plot_device_run", results, chart)
        assert chart.read_bytes().startswith(b"\x89PNG")


def test_batch_size_comparison_trains_the_recipe_under_each_setting(synthetic_fer, tmp_path):
    out = tmp_path / "batch_sizes.json"
    factory("compare_batch_sizes", "--data", synthetic_fer / "faces.npz", "--net", "s12",
            "--epochs", "2", "--limit", "64", "--recipes", "32:adamw", "64:sgd:0.2", "--out", out)
    saved = json.loads(out.read_text())
    assert [r["recipe"] for r in saved["runs"]] == ["32:adamw", "64:sgd:0.2"]
    adamw, sgd = (r["settings"] for r in saved["runs"])
    assert adamw["lr"] == pytest.approx(2e-3 * 0.5)  # AdamW: square root of the batch ratio
    assert sgd["lr"] == pytest.approx(0.02 * 0.5) and sgd["mixup"] == 0.2  # SGD: linear
    assert all(len(r["curve"]) == 2 for r in saved["runs"])


def test_count_flops_gives_each_networks_arithmetic_and_cpu_rate():
    out = factory("count_flops", "--networks", "s24", "v64a")
    s24, v64a = (line for line in out.splitlines() if line.startswith(("s24:", "v64a:")))
    assert "0.71 M parameters" in s24 and "4.82 M parameters" in v64a
    gflops = [float(line.split(", ")[1].split()[0]) for line in (s24, v64a)]
    assert 0 < gflops[0] < gflops[1]


def test_run_3s_resnet_member_is_resnet_18s_layout_within_the_size_cap():
    out = factory("count_flops", "--networks", "r18", "v64d3")
    r18, v64d3 = (line for line in out.splitlines() if line.startswith(("r18:", "v64d3:")))
    params, gflops = (float(r18.split()[1]), float(r18.split(", ")[1].split()[0]))
    assert 5.0 <= params <= 6.0  # the "about 5-6 M parameters"
    assert 2.5 < gflops < float(v64d3.split(", ")[1].split()[0])  # the deepest member costs more

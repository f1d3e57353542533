"""The factory's commands that rebuild shipped files on a CPU, run on copies of them.

``calibrate_int8.py`` and ``export_run.py --record-run-1`` rewrite copies of the shipped model
files and must give them back byte for byte; ``fit_framing.py`` refits the framing table from
FER2013 Training (300 photos of the 1,200) and compares the frames it predicts; the ONNX
conversions check the shipped files against their records (the conversions themselves need
packages the project does not install). Budget: about 60 s with FER2013 (``../shared``).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fer_sklearn.persistence import read_description
from fer_sklearn.pretrained import WEIGHTS_DIR

FACTORY = Path(__file__).resolve().parents[2] / "factory"


def factory(script, *args):
    """Run ``factory/<script>.py`` with ``args``; its output."""
    done = subprocess.run([sys.executable, str(FACTORY / f"{script}.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.fixture
def shipped_copies(tmp_path):
    for path in WEIGHTS_DIR.glob("*.safetensors"):
        shutil.copy(path, tmp_path)
    return tmp_path


def test_the_record_of_run_1_is_what_the_shipped_files_hold(shipped_copies):
    factory("export_run", "--record-run-1", "--weights", shipped_copies)
    for name in ("accurate", "default", "fast"):
        assert (shipped_copies / f"{name}.safetensors").read_bytes() == (
            WEIGHTS_DIR / f"{name}.safetensors").read_bytes(), name
    params = read_description(WEIGHTS_DIR / "default.safetensors")["model"]["steps"][-1][1][
        "params"]
    # how it was trained, not the classifier's defaults (Adam at 1e-3, a plateau schedule)
    assert params["optimizer"] == {"$class": "torch.optim.AdamW"} and params["lr"] == 0.002
    assert params["lr_schedule"] is None and params["optimizer__weight_decay"] == 0.05
    assert params["max_epochs"] == 29 and params["batch_size"] == 128
    training = read_description(WEIGHTS_DIR / "default.safetensors")["metrics"]["training"]
    assert "distilled" in training and "H100" in training and "WarmupCosine" in training


def test_int8_calibration_reproduces_the_shipped_file(shipped_copies, fer2013_csv):
    out = factory("calibrate_int8", "--models", "fast", "--weights", shipped_copies,
                  "--data", fer2013_csv)  # the ranges observed anew over 512 Training faces
    assert "fast: 13 ranges; int8 labels as float32 on PublicTest: 99." in out
    assert (shipped_copies / "fast.safetensors").read_bytes() == (
        WEIGHTS_DIR / "fast.safetensors").read_bytes()


def test_the_framing_table_refitted_frames_faces_as_the_shipped_one(fer2013_csv):
    # BlazeFace's search has changed since the table was fitted (it finds a few faces more or
    # less among the 1,200 photos), so the refit's coefficients differ; its frames must not
    out = factory("fit_framing", "--check", "--n-photos", "300")
    assert "median difference of side ratio" in out


@pytest.mark.parametrize("script", ["convert_blazeface", "convert_blazeface_full_range",
                                    "convert_face_presence"])
def test_the_shipped_onnx_files_are_those_their_conversion_wrote(script):
    assert "sha256 as converted" in factory(script, "--check")

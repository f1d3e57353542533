"""Crash-safe training: checkpoints every epoch, --resume after a kill or Ctrl-C, the same curve.

Budget: about 10 s for the in-process tests (whose Ctrl-C is a real SIGINT); the SIGKILL
test trains in two subprocesses, the killed run and the resumed one (15-40 s, marked slow).
"""

import json
import re
import shlex
import signal
import subprocess
import sys
import time

import joblib
import numpy as np
import pytest

from fer_sklearn import load_model, make_emotion_pipeline, make_faces
from fer_sklearn.cli import main
from fer_sklearn.persistence import EpochCheckpoint, ResumeTraining

from ..conftest import TINY_NET

# compares predicted numbers: .ci/run runs it again under forced bf16 and int8
pytestmark = pytest.mark.precision


@pytest.fixture(scope="module")
def data():
    X, y = make_faces(240, size=24, random_state=0)
    Xv, yv = make_faces(70, size=24, random_state=1)
    return X, y, Xv, yv


def _fit(data, folder, epochs, *, resume, **params):
    checkpoint = EpochCheckpoint(folder)
    callbacks = [("checkpoint", checkpoint)]
    if resume:
        callbacks.append(("resume", ResumeTraining(checkpoint)))
    settings = dict(TINY_NET, max_epochs=6, lr=0.01, lr_patience=1, patience=3)
    model = make_emotion_pipeline(random_state=0, callbacks=callbacks, **dict(settings, **params))
    X, y, Xv, yv = data
    model.set_params(resize__size=24).fit(X, y, X_valid=Xv, y_valid=yv, clf__epochs=epochs)
    return model


# the plateau schedule at a rate too small to improve the loss halves the rate after every two
# epochs without improvement (the 3rd and the 5th): whatever the CPU's arithmetic, the second
# cut comes after the resumption and depends on the schedule's state carried across it
SCHEDULES = {"plateau": dict(lr_schedule="plateau", lr=1e-6, early_stopping=False),
             "cosine": dict(lr_schedule="cosine")}


@pytest.mark.parametrize("precision", ["32", "bf16"])
@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_resumed_run_follows_the_uninterrupted_one_exactly(schedule, precision, data, tmp_path):
    settings = dict(SCHEDULES[schedule], precision=precision)
    reference = _fit(data, tmp_path / "reference", 6, resume=False, **settings)
    _fit(data, tmp_path / "run", 4, resume=False, **settings)  # "killed" after 4
    assert EpochCheckpoint(tmp_path / "run").finished_epochs() == 4
    resumed = _fit(data, tmp_path / "run", 2, resume=True, **settings)
    expected, got = reference[-1].history, resumed[-1].history
    for key in ("lr", "train_loss", "valid_loss", "valid_loss_best"):
        assert got[:, key] == expected[:, key], key
    assert got[5, "lr"] != got[3, "lr"]  # the schedule changed the rate after the resumption
    np.testing.assert_array_equal(resumed.predict_proba(data[2]), reference.predict_proba(data[2]))


def test_a_checkpoint_cut_short_leaves_the_previous_one(data, tmp_path):
    folder = tmp_path / "run"
    _fit(data, folder, 2, resume=False, early_stopping=False)
    (folder / ".epoch-0003.partial").mkdir()  # killed while writing epoch 3
    (folder / ".epoch-0003.partial" / "params.pt").write_bytes(b"\x80half")
    checkpoint = EpochCheckpoint(folder)
    assert checkpoint.finished_epochs() == 2 and checkpoint.latest().name == "epoch-0002"
    resumed = _fit(data, folder, 4, resume=True, early_stopping=False)
    assert len(resumed[-1].history) == 6
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-0006", "latest.json"]


def test_resume_without_a_checkpoint_starts_nothing(data, tmp_path):
    assert EpochCheckpoint(tmp_path / "none").finished_epochs() == 0
    assert len(_fit(data, tmp_path / "none", 2, resume=True)[-1].history) == 2


# ------------------------------------------------------------------ the command line
@pytest.fixture
def small_cli(monkeypatch):
    monkeypatch.setattr("fer_sklearn.cli._common.SYNTHETIC_SIZES", (140, 70))


def _ctrl_c_after_epoch(monkeypatch, epoch):
    """Press Ctrl-C (a real SIGINT to this process) once ``epoch`` is checkpointed."""
    save = EpochCheckpoint.save_model

    def save_then_interrupt(self, net):
        save(self, net)
        if len(net.history) == epoch:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(EpochCheckpoint, "save_model", save_then_interrupt)


def test_ctrl_c_saves_says_how_to_resume_and_resume_finishes(small_cli, tmp_path, monkeypatch,
                                                            capsys):
    out = tmp_path / "run"
    args = ["train", "--epochs", "4", "--width", "4", "--threads", "1", "--out", str(out)]
    with monkeypatch.context() as patch:
        _ctrl_c_after_epoch(patch, 2)
        assert main(args) == 130
    err = capsys.readouterr().err
    assert "Interrupted: the 2 finished epoch(s) are saved in" in err
    command = re.search(r"^  (fer-sklearn train .*--resume)$", err, re.M).group(1)
    assert not (out / "model.joblib").exists()

    # --resume refuses other settings, then continues with the printed command
    assert main(args[:2] + ["5"] + args[3:] + ["--resume"]) == 2
    assert "--resume continues the run with its own settings: epochs was 4, now 5" in \
        capsys.readouterr().err
    assert main(shlex.split(command)[1:]) == 0
    printed = capsys.readouterr().out
    assert "Resuming after epoch 2 of 4" in printed
    assert re.search(r"^\s+3\s", printed, re.M) and not re.search(r"^\s+1\s", printed, re.M)
    model = joblib.load(out / "model.joblib")
    assert len(model[-1].history) == 4
    faces = make_faces(5, random_state=3)[0]
    np.testing.assert_array_equal(load_model(out / "model.safetensors").predict_proba(faces),
                                  model.predict_proba(faces))
    assert not (out / "checkpoint").exists()  # finished: nothing left to resume
    assert main(args + ["--resume"]) == 2
    assert "no checkpoint to resume" in capsys.readouterr().err


def test_ctrl_c_before_the_first_epoch_says_nothing_was_saved(small_cli, tmp_path, monkeypatch,
                                                             capsys):
    def interrupt(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr("fer_sklearn.neural_net.EmotionClassifier.train_step", interrupt)
    assert main(["train", "--epochs", "2", "--width", "4", "--out", str(tmp_path)]) == 130
    assert "Interrupted before the first epoch finished: nothing was saved" in \
        capsys.readouterr().err


# ------------------------------------------------------------------ a real kill
def _train(out, *extra):
    command = [sys.executable, "-m", "fer_sklearn", "train", "--limit", "600", "--width", "4",
               "--epochs", "4", "--lr", "0.01", "--threads", "1", "--out", str(out), *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _epochs_saved(out):
    try:
        return json.loads((out / "checkpoint" / "latest.json").read_text())["epochs"]
    except (OSError, ValueError):
        return 0


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_ends_with_the_full_history(tmp_path):
    out = tmp_path / "run"
    killed = _train(out)
    deadline = time.monotonic() + 240
    while _epochs_saved(out) < 2 and killed.poll() is None:
        assert time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.02)
    time.sleep(0.2)  # into epoch 3 (0.3-1 s each)
    killed.send_signal(signal.SIGKILL)
    killed.communicate()
    assert killed.returncode == -signal.SIGKILL
    saved = _epochs_saved(out)
    assert 2 <= saved < 4 and not (out / "model.joblib").exists()
    checkpoint = EpochCheckpoint(out / "checkpoint")
    before = json.loads((checkpoint.latest() / "history.json").read_text())

    resumed = _train(out, "--resume")
    printed, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert f"Resuming after epoch {saved} of 4" in printed
    history = joblib.load(out / "model.joblib")[-1].history
    assert history[:, "epoch"] == [1, 2, 3, 4]
    # the epochs before the kill are kept as they were; the in-process tests above show the
    # epochs after it are those of an uninterrupted run
    for key in ("lr", "train_loss", "valid_loss"):
        assert history[:saved, key] == [epoch[key] for epoch in before], key

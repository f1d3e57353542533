"""Tests of ``fer-sklearn search`` that need no Dask cluster: its input errors and a serial run.

Time budget: about 10 s on 2 cores (one serial search of 4 tiny fits). The search on a
running scheduler is tested in test_distributed.py, next to the cluster it uses.
"""

import sys
import time

import numpy as np
import pandas as pd
import pytest

from fer_sklearn import load_model
from fer_sklearn.cli import main

from .test_cli import _one_error_line, _write_fer_csv

TINY = ["--param", "clf__module__width=4", "--param", "clf__module__depth=2",
        "--param", "resize__size=24", "--epochs", "2", "--cv", "2", "--threads", "1"]


@pytest.fixture(scope="module")
def fer_csv(tmp_path_factory):
    return _write_fer_csv(tmp_path_factory.mktemp("search") / "faces.csv", 140)


@pytest.mark.parametrize("params, message", [
    (["clf__dropout=0.3"], ("--param: 'clf__dropout' is not a parameter of the EmotionPipeline; "
                            "valid prefixes: grayscale__, resize__, normalize__, clf__, "
                            "clf__module__")),
    (["clf__module__dropuot=0.3"], "(closest: clf__module__dropout"),
    (["clf__lr=1e-3", "clf__lr=3e-4"], "--param clf__lr is given twice"),
    (["clf__lr"], "argument --param: expected NAME=VALUE[,VALUE...], got 'clf__lr'"),
])
def test_bad_params_are_rejected_before_any_data_or_training(params, message, capsys):
    args = ["search", "--data", "missing.csv"]
    for param in params:
        args += ["--param", param]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in _one_error_line(err)  # not "no such file": nothing was read


def test_without_dask_says_which_extra_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    assert main(["search", "--param", "clf__lr=1e-3", "--local-workers", "2"]) == 2
    assert "pip install 'fer-sklearn[dask]'" in _one_error_line(capsys.readouterr().err)


def test_unreachable_scheduler_fails_in_seconds(capsys):
    start = time.perf_counter()
    code = main(["search", "--param", "clf__lr=1e-3", "--scheduler", "tcp://127.0.0.1:1",
                 "--connect-timeout", "1"])
    assert time.perf_counter() - start < 30  # a guard against a hang, not a speed claim
    assert code == 2
    out = capsys.readouterr()
    assert "no Dask scheduler reachable at tcp://127.0.0.1:1 within 1.0 s" in _one_error_line(
        out.err)
    assert "Searching" not in out.out


def test_serial_search_writes_results_model_and_report(fer_csv, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["search", "--data", str(fer_csv), "--local-workers", "0",
                 "--param", "clf__lr=3e-3,1e-3", *TINY, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Fitting 2 folds for each of 2 candidates, totalling 4 fits" in printed
    assert printed.count("[CV ") == 4  # one line per fit as it ends
    results = pd.read_csv(out / "cv_results.csv")
    assert sorted(results["param_clf__lr"]) == [1e-3, 3e-3]
    assert sorted(results["rank_test_score"]) in ([1, 2], [1, 1])
    assert {"model.joblib", "model.safetensors", "report.html", "metrics.json"} <= {
        p.name for p in out.iterdir()}
    assert load_model(out / "model.safetensors").predict_proba(
        np.zeros((2, 48, 48), np.uint8)).shape == (2, 7)


def test_search_takes_trains_limit_and_width(fer_csv, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["search", "--data", str(fer_csv), "--local-workers", "0", "--limit", "50",
                 "--width", "3", "--param", "clf__lr=3e-3", *TINY[2:], "--out", str(out)]) == 0
    assert "Searching on 50 faces drawn from" in capsys.readouterr().out
    model = load_model(out / "model.safetensors")
    assert model[-1].module_.features[0][0].out_channels == 3


def test_search_on_a_training_only_csv_holds_out_a_split(tmp_path, capsys):
    data = _write_fer_csv(tmp_path / "train_only.csv", 70, usages=("Training",))
    assert main(["search", "--data", str(data), "--local-workers", "0",
                 "--param", "clf__lr=3e-3", *TINY, "--out", str(tmp_path / "run")]) == 0
    assert "a 10% split, stratified by emotion" in capsys.readouterr().out

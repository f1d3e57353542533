"""Tests of the fer-sklearn command line, through main() and python -m fer_sklearn."""

import csv
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import joblib
import numpy as np
import pytest
import torch
from PIL import Image

import fer_sklearn
from fer_sklearn import EMOTIONS, make_emotion_pipeline, make_faces
from fer_sklearn import _cli
from fer_sklearn._cli import SimpleProgressBar, main, predict_rows

torch.set_num_threads(1)
SRC = str(Path(fer_sklearn.__file__).resolve().parents[1])


def _write_fer_csv(path, n, usages=("Training", "PublicTest"), seed=0):
    X, y = make_faces(n, size=48, random_state=seed)
    lines = ["emotion,pixels,Usage"]
    for i, (image, label) in enumerate(zip(X, y)):
        usage = usages[0] if i < int(n * 0.8) else usages[-1]
        lines.append(f"{label},{' '.join(map(str, image.ravel()))},{usage}")
    text = "\n".join(lines) + "\n"
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        Path(path).write_text(text)
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def model_file(workdir):
    X, y = make_faces(210, size=24, random_state=0)
    model = make_emotion_pipeline(max_epochs=2, module__width=4, random_state=0)
    model.set_params(resize__size=24).fit(X, y)
    path = workdir / "model.joblib"
    joblib.dump(model, path)
    return path


@pytest.fixture(scope="module")
def fer_csv(workdir):
    return _write_fer_csv(workdir / "fer2013.csv.gz", 140)


@pytest.fixture(scope="module")
def image_dir(workdir):
    root = workdir / "images"
    (root / "nested").mkdir(parents=True)
    X, _ = make_faces(5, size=30, random_state=2)
    for i, image in enumerate(X[:3]):
        Image.fromarray(image).save(root / f"face{i}.png")
    for i, image in enumerate(X[3:]):
        Image.fromarray(image).convert("RGB").save(root / "nested" / f"colour{i}.jpg")
    (root / "notes.txt").write_text("not an image, and skipped for its suffix")
    return root


def _one_error_line(err):
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1, err
    assert lines[0].startswith("fer-sklearn: error: ")
    assert "Traceback" not in err
    return lines[0]


# ---------------------------------------------------------------------- train
def test_train_on_fer_csv_writes_model_and_report(fer_csv, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--data", str(fer_csv), "--epochs", "1", "--batch-size", "32",
                 "--out", str(out), "--seed", "1"])
    stdout = capsys.readouterr().out
    assert code == 0
    assert "Training on 112 images" in stdout and "(PublicTest)" in stdout
    assert stdout.strip().splitlines()[-1] == f"Report written to {out / 'report.html'}"
    for name in ("model.joblib", "learning_curves.png", "metrics.json", "report.md",
                 "report.html", "confusion_matrix.png"):
        assert (out / name).is_file(), name
    model = joblib.load(out / "model.joblib")
    assert model[-1].verbose == 0  # the saved model is quiet
    assert json.loads((out / "metrics.json").read_text())["n_samples"] == 28


def test_train_on_synthetic_default_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_cli, "_SYNTHETIC_SIZES", (70, 35))
    out = tmp_path / "synthetic"
    assert main(["train", "--epochs", "1", "--threads", "1", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "synthetic faces" in stdout and "not real photographs" in stdout
    model = joblib.load(out / "model.joblib")
    assert model[-1].module_.features[0][0].out_channels == 8  # the small synthetic network


def test_train_on_image_folder_splits_off_validation(tmp_path, capsys):
    X, y = make_faces(70, size=48, random_state=3)
    for i, (image, label) in enumerate(zip(X, y)):
        folder = tmp_path / "faces" / EMOTIONS[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i}.png")
    code = main(["train", "--data", str(tmp_path / "faces"), "--epochs", "1",
                 "--out", str(tmp_path / "run")])
    assert code == 0
    assert "a 10% split" in capsys.readouterr().out
    assert (tmp_path / "run" / "report.html").is_file()


def test_train_unknown_valid_usage(fer_csv, tmp_path, capsys):
    code = main(["train", "--data", str(fer_csv), "--valid-usage", "PrivateTest",
                 "--out", str(tmp_path)])
    assert code == 2
    assert "--valid-usage 'PrivateTest'" in _one_error_line(capsys.readouterr().err)


# ---------------------------------------------------------------------- evaluate
def test_evaluate_saved_model(model_file, fer_csv, tmp_path, capsys):
    code = main(["evaluate", "--model", str(model_file), "--data", str(fer_csv),
                 "--out", str(tmp_path / "eval")])
    stdout = capsys.readouterr().out
    assert code == 0
    assert "28 images" in stdout and "(PublicTest)" in stdout  # the default split
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["n_samples"] == 28 and 0 <= metrics["metrics"]["accuracy"] <= 1
    assert (tmp_path / "eval" / "report.html").is_file()


def test_evaluate_every_row_with_usage(model_file, fer_csv, tmp_path, capsys):
    assert main(["evaluate", "--model", str(model_file), "--data", str(fer_csv),
                 "--usage", "Training", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "metrics.json").read_text())["n_samples"] == 112


@pytest.mark.parametrize("args, message", [
    (["evaluate", "--model", "missing.joblib", "--data", "x.csv", "--out", "o"], "no model file at"),
    (["evaluate", "--model", "{model}", "--data", "missing.csv", "--out", "o"], "no such file"),
    (["evaluate", "--model", "{model}", "--data", "{txt}", "--out", "o"], "expected a FER2013 CSV"),
    (["evaluate", "--model", "{txt}", "--data", "{csv}", "--out", "o"], "not a model saved"),
    (["evaluate", "--model", "{model}", "--data", "{bad_csv}", "--out", "o"], "missing column 'pixels'"),
    (["evaluate", "--model", "{model}", "--data", "{csv}", "--usage", "Nope", "--out", "o"],
     "--usage 'Nope' is not in"),
    (["evaluate", "--model", "{model}", "--data", "{unlabelled}", "--out", "o"],
     "has no 'emotion' column, so it cannot be used to evaluate"),
    (["evaluate", "--data", "{csv}", "--out", "o"], "no --model given and no pretrained model"),
    (["train", "--epochs", "zero"], "argument --epochs: expected a positive integer"),
    (["train", "--lr", "-1"], "argument --lr: expected a positive number"),
    (["fit"], "invalid choice: 'fit'"),
    ([], "the following arguments are required: COMMAND"),
    (["predict", "--model", "{model}", "--output", "out.xlsx", "{txt}"], "--output must end in"),
    (["predict", "--model", "{model}", "missing.png"], "no such file or folder: missing.png"),
])
def test_errors_print_one_line_and_exit_2(args, message, model_file, fer_csv, tmp_path, capsys,
                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delattr(fer_sklearn, "load_pretrained", raising=False)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "bad.csv").write_text("emotion,image\n1,2\n")
    (tmp_path / "test.csv").write_text("pixels\n" + " ".join(["0"] * 2304) + "\n")
    files = {"model": str(model_file), "txt": "notes.txt", "csv": str(fer_csv), "bad_csv": "bad.csv",
             "unlabelled": "test.csv"}
    assert main([a.format(**files) for a in args]) == 2
    assert message in _one_error_line(capsys.readouterr().err)


def test_model_defaults_to_load_pretrained(model_file, fer_csv, tmp_path, monkeypatch, capsys):
    calls = []

    def load_pretrained():
        calls.append(1)
        return joblib.load(model_file)

    monkeypatch.setattr(fer_sklearn, "load_pretrained", load_pretrained, raising=False)
    assert main(["evaluate", "--data", str(fer_csv), "--out", str(tmp_path)]) == 0
    assert calls == [1]


# ---------------------------------------------------------------------- predict
def test_predict_to_csv(model_file, image_dir, tmp_path, capsys):
    out = tmp_path / "results.csv"
    code = main(["predict", "--model", str(model_file), str(image_dir), "--output", str(out)])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert [Path(r["path"]).name for r in rows] == [
        "face0.png", "face1.png", "face2.png", "colour0.jpg", "colour1.jpg"]
    assert list(rows[0]) == ["path", "label", *EMOTIONS, "error"]
    for row in rows:
        probabilities = np.array([float(row[e]) for e in EMOTIONS])
        assert probabilities.sum() == pytest.approx(1, abs=1e-4)
        assert row["label"] == EMOTIONS[int(probabilities.argmax())]
        assert row["error"] == ""
    assert "Predicted 5 of 5 images" in capsys.readouterr().err


def test_predict_unreadable_file_is_a_row_and_exit_1(model_file, image_dir, tmp_path, capsys):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    out = tmp_path / "results.json"
    code = main(["predict", "--model", str(model_file), str(broken), str(image_dir / "face0.png"),
                 "--output", str(out)])
    assert code == 1
    rows = json.loads(out.read_text())
    assert len(rows) == 2
    assert rows[0]["label"] == "" and "not a readable image" in rows[0]["error"]
    assert rows[0]["happy"] is None
    assert rows[1]["error"] == "" and rows[1]["label"] in EMOTIONS
    assert "1 image(s) could not be read" in capsys.readouterr().err


def test_predict_to_stdout(model_file, image_dir, capsys):
    assert main(["predict", "--model", str(model_file), str(image_dir / "face1.png")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "path,label," + ",".join(EMOTIONS) + ",error"
    assert len(lines) == 2


def test_predict_rows_streams_in_batches(model_file, image_dir):
    model = joblib.load(model_file)
    seen = []
    original = model.predict_proba

    def spy(X):
        seen.append(len(X))
        return original(X)

    model.predict_proba = spy
    paths = sorted(image_dir.rglob("*.png")) + sorted(image_dir.rglob("*.jpg"))
    rows = predict_rows(model, iter(paths), batch_size=2)
    first = next(rows)  # a generator: only the first batch has been read
    assert seen == [2] and first["path"] == str(paths[0])
    assert len([first, *rows]) == 5
    assert seen == [2, 2, 1]


def test_predict_rows_custom_reader(model_file):
    model = joblib.load(model_file)
    rows = list(predict_rows(model, ["a", "b"], read_image=lambda p: np.zeros((24, 24), np.uint8)))
    assert [r["path"] for r in rows] == ["a", "b"] and rows[0]["error"] == ""


# ---------------------------------------------------------------------- entry point
def _run_module(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=SRC, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "fer_sklearn", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


def test_python_m_help_and_version():
    result = _run_module("--help")
    assert result.returncode == 0
    for command in ("train", "evaluate", "predict"):
        assert command in result.stdout


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"fer-sklearn {fer_sklearn.__version__}"


def test_python_m_error_exit_code(tmp_path):
    result = _run_module("predict", "--model", "nowhere.joblib", "face.png", cwd=tmp_path)
    assert result.returncode == 2
    _one_error_line(result.stderr)


def test_console_script_declared():
    pyproject = Path(SRC).parent / "pyproject.toml"
    if not pyproject.is_file():
        pytest.skip("not running from a source checkout")
    assert 'fer-sklearn = "fer_sklearn._cli:main"' in pyproject.read_text()


# ---------------------------------------------------------------------- progress
def test_simple_progress_bar_draws_within_epochs(capsys):
    import io

    stream = io.StringIO()
    bar = SimpleProgressBar(4, stream=stream, width=8)
    bar.on_epoch_begin(None)
    for _ in range(2):
        bar.on_batch_end(None)
    assert stream.getvalue().endswith("[####....] 2/4 batches")
    bar.on_epoch_end(None)
    assert stream.getvalue().endswith("\r")


def test_progress_callback_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert isinstance(_cli.progress_callback(10), SimpleProgressBar)


def test_evaluate_image_folder_uses_its_test_split(model_file, tmp_path, capsys):
    X, y = make_faces(14, size=48, random_state=4)
    for split in ("train", "test"):
        for i, (image, label) in enumerate(zip(X, y)):
            folder = tmp_path / "faces" / split / EMOTIONS[label].capitalize()
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{i}.png")
    assert main(["evaluate", "--model", str(model_file), "--data", str(tmp_path / "faces"),
                 "--out", str(tmp_path / "out")]) == 0
    assert f"14 images from {tmp_path / 'faces' / 'test'}" in capsys.readouterr().out

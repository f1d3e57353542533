"""Tests of the fer-sklearn command line, through main() and python -m fer_sklearn."""

import csv
import gzip
import io
import json
import os
import re
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
from skorch.callbacks import ProgressBar

import fer_sklearn
from fer_sklearn import EMOTIONS, load_fer2013, make_emotion_pipeline, make_faces
from fer_sklearn.cli import main
from fer_sklearn.cli import predict as cli_predict
from fer_sklearn.cli import train as cli_train
from fer_sklearn.cli._common import CLIError
from fer_sklearn.datasets import compose_photo
from fer_sklearn.faces import crop_face
from fer_sklearn.io import read_image, resize_square
from fer_sklearn.photos import ROW_FIELDS

from .._photos import cascade_or_skip, fer_faces, matches
from ..conftest import auto_tolerance

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


def test_train_small_on_real_data_with_plain_logs(fer_csv, tmp_path, capsys):
    out = tmp_path / "small"
    code = main(["train", "--data", str(fer_csv), "--quick", "--limit", "40", "--width", "4",
                 "--epochs", "1", "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0
    assert "Training on 40 faces drawn from 112 images" in stdout
    assert "\x1b[" not in stdout  # no colour codes when the output is no terminal
    model = joblib.load(out / "model.joblib")
    assert model[-1].module_.features[0][0].out_channels == 4
    provenance = json.loads((out / "metrics.json").read_text())["provenance"]
    assert "(PublicTest)" in provenance["data"] and provenance["model"]["module__width"] == 4
    assert "1-2 hours on 2 CPU cores" in cli_train._FULL_RUN


def test_train_on_synthetic_default_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("fer_sklearn.cli._common.SYNTHETIC_SIZES", (70, 35))
    out = tmp_path / "synthetic"
    assert main(["train", "--epochs", "1", "--threads", "1", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "synthetic faces" in stdout and "not real photographs" in stdout
    model = joblib.load(out / "model.joblib")
    assert model[-1].module_.features[0][0].out_channels == 8  # the small synthetic network
    # the command line guide's sample output is what the command prints, numbers aside
    guide = (Path(fer_sklearn.__file__).resolve().parents[2] / "docs/guide/cli.md").read_text()
    sample = guide.split("ends with the path of\nthe report:\n\n```console\n")[1].split("```")[0]
    for line in sample.strip().splitlines():
        pattern = re.escape(line).replace("fer\\-sklearn\\-run", ".+")
        pattern = re.sub(r"\d+(\\\.\d+)?", r"\\d+(?:\\.\\d+)?", pattern)
        pattern = pattern.replace("the\\ weights\\ of\\ epoch\\ \\d+(?:\\.\\d+)?,\\ the\\ best\\ "
                                  "valid\\ loss", "the weights of [^)]+")
        assert re.search(pattern, stdout), line


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


def test_train_on_a_training_only_csv_holds_out_a_stratified_split(tmp_path, capsys):
    data = _write_fer_csv(tmp_path / "train_only.csv", 70, usages=("Training",))
    code = main(["train", "--data", str(data), "--epochs", "1", "--quick", "--width", "4",
                 "--out", str(tmp_path / "run")])
    stdout = capsys.readouterr().out
    assert code == 0, stdout
    assert "it has no PublicTest" in stdout and "a 10% split, stratified by emotion" in stdout


def test_train_unknown_valid_usage(fer_csv, tmp_path, capsys):
    code = main(["train", "--data", str(fer_csv), "--valid-usage", "PrivateTest",
                 "--out", str(tmp_path)])
    assert code == 2
    assert "unknown usage 'PrivateTest'; the file's usages are" in _one_error_line(
        capsys.readouterr().err)


# ---------------------------------------------------------------------- evaluate
def test_evaluate_saved_model(model_file, fer_csv, tmp_path, capsys):
    code = main(["evaluate", "--model", str(model_file), "--data", str(fer_csv),
                 "--out", str(tmp_path / "eval")])
    stdout = capsys.readouterr().out
    assert code == 0
    assert "28 images" in stdout and "(PublicTest)" in stdout  # the default split
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    model = joblib.load(model_file)  # the report's accuracy is the model's on those 28 faces
    X, y = load_fer2013(fer_csv, usage="PublicTest", return_X_y=True)
    assert metrics["n_samples"] == 28
    assert metrics["metrics"]["accuracy"] == pytest.approx(model.score(X, y))
    assert (tmp_path / "eval" / "report.html").is_file()


def test_evaluate_every_row_with_usage(model_file, fer_csv, tmp_path, capsys):
    assert main(["evaluate", "--model", str(model_file), "--data", str(fer_csv),
                 "--usage", "Training", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "metrics.json").read_text())["n_samples"] == 112


@pytest.mark.parametrize("args, message", [
    (["evaluate", "--model", "missing.joblib", "--data", "x.csv", "--out", "o"],
     "no model file at"),
    (["evaluate", "--model", "{model}", "--data", "missing.csv", "--out", "o"],
     "no such file or folder: missing.csv"),
    (["evaluate", "--model", "{model}", "--data", "{txt}", "--out", "o"], "expected a FER2013 CSV"),
    (["evaluate", "--model", "{txt}", "--data", "{csv}", "--out", "o"], "not a model saved"),
    (["evaluate", "--model", "{model}", "--data", "{bad_csv}", "--out", "o"],
     "missing column 'pixels'"),
    (["evaluate", "--model", "{model}", "--data", "{csv}", "--usage", "Nope", "--out", "o"],
     "unknown usage 'Nope'; the file's usages are"),
    (["evaluate", "--model", "{model}", "--data", "{unlabelled}", "--out", "o"],
     "test.csv has no 'emotion' column"),
    (["evaluate", "--model", "{model}", "--data", "{csv}", "--out", "{txt}"],
     "argument --out: notes.txt exists and is not a folder"),
    (["train", "--epochs", "zero"], "argument --epochs: expected a positive integer"),
    (["train", "--lr", "-1"], "argument --lr: expected a positive number"),
    (["fit"], "invalid choice: 'fit'"),
    ([], "the following arguments are required: COMMAND"),
    (["predict", "--model", "{model}", "--output", "out.xlsx", "{txt}"],
     "argument --output: must end in .csv or .json, got 'out.xlsx'"),
    (["predict", "--model", "{model}", "--batch-size", "0", "{txt}"],
     "argument --batch-size: expected a positive integer"),
    (["predict", "--model", "{model}", "missing.png"], "no such file or folder: missing.png"),
    (["predict", "--model", "{model}", "--annotate", "notes.txt", "notes.txt"],
     "cannot create the --annotate folder: notes.txt: File exists"),
])
def test_errors_print_one_line_and_exit_2(args, message, model_file, fer_csv, tmp_path, capsys,
                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "bad.csv").write_text("emotion,image\n1,2\n")
    (tmp_path / "test.csv").write_text("pixels\n" + " ".join(["0"] * 2304) + "\n")
    files = {"model": str(model_file), "txt": "notes.txt", "csv": str(fer_csv),
             "bad_csv": "bad.csv", "unlabelled": "test.csv"}
    assert main([a.format(**files) for a in args]) == 2
    assert message in _one_error_line(capsys.readouterr().err)


def test_model_defaults_to_load_pretrained(model_file, fer_csv, tmp_path, monkeypatch, capsys):
    calls = []

    def load_pretrained(*names, **options):
        calls.append(names)
        return joblib.load(model_file)

    monkeypatch.setattr("fer_sklearn.pretrained._pretrained.load_pretrained", load_pretrained)
    assert main(["evaluate", "--data", str(fer_csv), "--out", str(tmp_path)]) == 0
    assert calls == [()]  # the shipped default


# ---------------------------------------------------------------------- predict
def _rows_of(path):
    if str(path).endswith(".json"):
        return json.loads(Path(path).read_text())
    return list(csv.DictReader(Path(path).open()))


@pytest.fixture(scope="module")
def photo_dir(workdir):
    """A photo of three FER2013 faces, a grey photo without a face, and an unreadable file."""
    cascade_or_skip()
    X, _ = fer_faces()
    root = workdir / "photos"
    root.mkdir()
    photo, boxes = compose_photo(X[[1, 5, 9]], random_state=3)
    Image.fromarray(photo).save(root / "group.jpg", quality=95)
    Image.fromarray(np.full((240, 320, 3), 90, np.uint8)).save(root / "wall.png")
    (root / "zz_broken.png").write_bytes(b"not a png")
    return root, boxes


@pytest.mark.precision
def test_predict_photos_one_row_per_face_with_the_model_emotions(model_file, photo_dir, tmp_path,
                                                                 capsys):
    root, boxes = photo_dir
    out = tmp_path / "rows.csv"
    code = main(["predict", "--model", str(model_file), str(root), "--output", str(out)])
    assert code == 1  # zz_broken.png could not be read
    rows = _rows_of(out)
    assert list(rows[0]) == list(ROW_FIELDS)
    faces = [r for r in rows if r["file"].endswith("group.jpg")]
    assert [r["face"] for r in faces] == ["0", "1", "2"] and all(r["status"] == "ok" for r in faces)
    found = [tuple(int(r[k]) for k in "xywh") for r in faces]
    assert all(any(matches(t, b) for b in found) for t in boxes)
    # the emotions are those of the model on the crops of the boxes (24 px: its input size)
    model = joblib.load(model_file)
    gray = read_image(root / "group.jpg")
    proba = model.predict_proba(np.stack([crop_face(gray, b, size=24) for b in found]))
    assert [r["emotion"] for r in faces] == [EMOTIONS[c] for c in proba.argmax(1)]
    scores = np.array([[float(r[e]) for e in EMOTIONS] for r in faces])
    # batches of other sizes: the same arithmetic, within its tolerance (bf16 sums in other orders)
    np.testing.assert_allclose(scores, proba, atol=auto_tolerance(model)[1])
    # a photo without a face and an unreadable file are rows too, with empty face columns
    (wall,) = [r for r in rows if r["file"].endswith("wall.png")]
    (broken,) = [r for r in rows if r["file"].endswith("zz_broken.png")]
    assert wall["status"] == "no_face" and wall["face"] == wall["emotion"] == wall["error"] == ""
    assert broken["status"] == "error" and "not a readable image" in broken["error"]
    assert broken["x"] == broken["happy"] == ""
    assert len(rows) == 5
    err = capsys.readouterr().err
    assert "3 face(s) in 1 of 3 image(s)" in err and "1 image(s) with no face" in err
    assert "1 image(s) could not be read" in err


def test_predict_rows_carry_the_detection_score_and_min_score_sets_it(model_file, photo_dir,
                                                                     tmp_path):
    root, _ = photo_dir
    group = str(root / "group.jpg")
    out = tmp_path / "rows.json"
    assert main(["predict", "--model", str(model_file), group, "--output", str(out)]) == 0
    scores = [row["score"] for row in _rows_of(out)]
    assert len(scores) == 3 and all(0.5 < s <= 1 for s in scores)
    # a threshold above the middle score keeps the faces scoring above it
    cut = sorted(scores)[1]
    assert main(["predict", "--model", str(model_file), group, "--output", str(out),
                 "--min-score", str(cut)]) == 0
    assert sorted(row["score"] for row in _rows_of(out)) == pytest.approx(
        [s for s in sorted(scores) if s > round(cut, 6)], abs=1e-6)
    assert main(["predict", "--model", str(model_file), group, "--output", str(out),
                 "--min-score", "0.999999"]) == 0
    assert [row["status"] for row in _rows_of(out)] == ["no_face"]
    # the cascade has no comparable score: an empty CSV cell
    csv_out = tmp_path / "rows.csv"
    assert main(["predict", "--model", str(model_file), group, "--output", str(csv_out),
                 "--detector", "haar"]) == 0
    assert {row["score"] for row in _rows_of(csv_out)} == {""}


@pytest.mark.parametrize("value", ["0", "1", "high"])
def test_predict_min_score_must_be_a_probability(model_file, photo_dir, value, capsys):
    root, _ = photo_dir
    assert main(["predict", "--model", str(model_file), str(root), "--min-score", value]) == 2
    assert "expected a number between 0 and 1" in capsys.readouterr().err


def test_predict_no_face_is_not_a_failure(model_file, photo_dir, capsys):
    root, _ = photo_dir
    assert main(["predict", "--model", str(model_file), str(root / "wall.png")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == ",".join(ROW_FIELDS) and len(lines) == 2
    assert lines[1].endswith(",no_face,")


def test_predict_annotate_draws_each_readable_photo(model_file, photo_dir, tmp_path, capsys):
    root, _ = photo_dir
    drawn = tmp_path / "drawn"
    code = main(["predict", "--model", str(model_file), str(root), "--annotate", str(drawn),
                 "--output", str(tmp_path / "rows.json")])
    assert code == 1
    assert sorted(p.name for p in drawn.iterdir()) == ["group.jpg", "wall.png"]
    before = np.asarray(Image.open(root / "group.jpg").convert("RGB"), dtype=int)
    after = np.asarray(Image.open(drawn / "group.jpg").convert("RGB"), dtype=int)
    assert after.shape == before.shape
    assert (np.abs(after - before).max(axis=2) > 60).mean() > 0.005  # boxes and labels
    # no face, nothing drawn: the same pixels
    assert np.array_equal(np.asarray(Image.open(drawn / "wall.png")),
                          np.asarray(Image.open(root / "wall.png")))
    assert f"Annotated 2 image(s) in {drawn}" in capsys.readouterr().err


def test_predict_annotate_folder_inside_the_input_is_not_read(model_file, tmp_path, capsys):
    X, _ = make_faces(2, size=30, random_state=2)
    for i, image in enumerate(X):
        Image.fromarray(image).save(tmp_path / f"face{i}.gif")
    args = ["predict", "--model", str(model_file), "--no-detect", str(tmp_path),
            "--annotate", str(tmp_path / "drawn"), "--output", str(tmp_path / "rows.csv")]
    for _ in range(2):
        assert main(args) == 0
        assert len(_rows_of(tmp_path / "rows.csv")) == 2
    # .gif is not written by annotate: the drawn copies are PNG; inputs are never replaced
    assert sorted(p.name for p in (tmp_path / "drawn").iterdir()) == ["face0.png", "face1.png"]


def test_predict_no_detect_one_row_per_cropped_face(model_file, image_dir, tmp_path, capsys):
    out = tmp_path / "results.csv"
    code = main(["predict", "--model", str(model_file), "--no-detect", str(image_dir),
                 "--output", str(out)])
    assert code == 0
    rows = _rows_of(out)
    assert [Path(r["file"]).name for r in rows] == [
        "face0.png", "face1.png", "face2.png", "colour0.jpg", "colour1.jpg"]
    for row in rows:
        assert (row["face"], row["x"], row["y"], row["w"], row["h"]) == ("0", "0", "0", "30", "30")
        probabilities = np.array([float(row[e]) for e in EMOTIONS])
        assert probabilities.sum() == pytest.approx(1, abs=1e-4)
        assert row["emotion"] == EMOTIONS[int(probabilities.argmax())]
        assert (row["status"], row["error"]) == ("ok", "")
    assert "5 face(s) in 5 of 5 image(s)" in capsys.readouterr().err


@pytest.mark.parametrize("options", [["--pretrained", "fast"], ["--model", "fast"],
                                     ["--pretrained", "fast", "--tta"]])
def test_predict_takes_a_shipped_model_by_name(options, image_dir, tmp_path):
    out = tmp_path / "rows.csv"
    assert main(["predict", *options, "--no-detect", str(image_dir), "--output", str(out)]) == 0
    model = fer_sklearn.load_pretrained("fast", tta="--tta" in options)
    crops = np.stack([resize_square(read_image(Path(row["file"])), 48) for row in _rows_of(out)])
    expected = model.predict_proba(crops)
    got = np.array([[float(row[e]) for e in model.classes_] for row in _rows_of(out)])
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_evaluate_takes_a_shipped_model_and_tta(fer_csv, tmp_path, capsys):
    assert main(["evaluate", "--pretrained", "fast", "--tta", "--data", str(fer_csv),
                 "--out", str(tmp_path)]) == 0
    model = json.loads((tmp_path / "metrics.json").read_text())["provenance"]["model"]
    assert model["tta"] is True
    assert main(["evaluate", "--model", "accurate", "--data", str(fer_csv),
                 "--usage", "PublicTest", "--out", str(tmp_path / "accurate")]) == 0


def test_tta_on_a_saved_model_file(model_file, fer_csv, tmp_path):
    assert main(["evaluate", "--model", str(model_file), "--tta", "--data", str(fer_csv),
                 "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "metrics.json").read_text())["provenance"]["model"]["tta"]


@pytest.mark.parametrize("options, message", [
    (["--model", "huge"], "no model file at huge, and 'huge' is not the name of a shipped model "
                          "(accurate, default, fast)"),
    (["--pretrained", "huge"], "no pretrained model named 'huge'; available:"),
    (["--model", "fast", "--pretrained", "fast"], "not allowed with argument"),
])
def test_unknown_shipped_names_are_usage_errors(options, message, fer_csv, tmp_path, capsys):
    assert main(["evaluate", *options, "--data", str(fer_csv), "--out", str(tmp_path)]) == 2
    assert message in _one_error_line(capsys.readouterr().err)


def test_predict_unreadable_file_is_a_row_and_exit_1(model_file, image_dir, tmp_path, capsys):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    out = tmp_path / "results.json"
    code = main(["predict", "--model", str(model_file), "--no-detect", str(broken),
                 str(image_dir / "face0.png"), "--output", str(out)])
    assert code == 1
    rows = json.loads(out.read_text())
    assert [r["status"] for r in rows] == ["error", "ok"]
    assert rows[0]["emotion"] is None and "not a readable image" in rows[0]["error"]
    assert rows[0]["happy"] is None and rows[0]["face"] is None
    assert rows[1]["error"] is None and rows[1]["emotion"] in EMOTIONS
    assert "1 image(s) could not be read" in capsys.readouterr().err


def test_predict_streams_in_batches(model_file, image_dir, tmp_path, monkeypatch):
    model = joblib.load(model_file)
    seen = []
    original = model.predict_proba

    def spy(X):
        seen.append(len(X))
        return original(X)

    model.predict_proba = spy
    monkeypatch.setattr(cli_predict, "load_model", lambda path: model)
    assert main(["predict", "--no-detect", "--batch-size", "2", str(image_dir),
                 "--output", str(tmp_path / "rows.csv")]) == 0
    assert seen == [2, 2, 1]


def test_predict_without_face_detection_is_one_line(model_file, image_dir, monkeypatch, capsys):
    def no_cascade():
        raise ImportError("OpenCV 5.0 has no CascadeClassifier")

    monkeypatch.setattr("fer_sklearn.faces._detect._cascade", no_cascade)
    assert main(["predict", "--model", str(model_file), "--detector", "haar", str(image_dir)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "face detection unavailable" in line and "--no-detect" in line


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


def test_python_m_predict_photo(model_file, photo_dir, tmp_path):
    root, _ = photo_dir
    result = _run_module("predict", "--model", str(model_file), str(root / "group.jpg"),
                         "--output", "rows.json", "--annotate", "drawn", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert [r["face"] for r in rows] == [0, 1, 2] and {r["status"] for r in rows} == {"ok"}
    assert (tmp_path / "drawn" / "group.jpg").is_file()


def test_python_m_error_exit_code(tmp_path):
    result = _run_module("predict", "--model", "nowhere.joblib", "face.png", cwd=tmp_path)
    assert result.returncode == 2
    _one_error_line(result.stderr)


def test_console_script_declared():
    pyproject = Path(SRC).parent / "pyproject.toml"
    if not pyproject.is_file():
        pytest.skip("not running from a source checkout")
    assert 'fer-sklearn = "fer_sklearn.cli:main"' in pyproject.read_text()


# ---------------------------------------------------------------------- progress, errors
class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_skorch_progress_bar_only_within_long_epochs_on_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert cli_train._progress(99) == []
    ((name, bar),) = cli_train._progress(100)
    assert isinstance(bar, ProgressBar) and bar.batches_per_epoch == 100
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a log file: no bar
    assert cli_train._progress(1000) == []


def test_a_library_error_is_not_a_usage_error(model_file, fer_csv, tmp_path, monkeypatch):
    def evaluate(model, X, y, **kwargs):
        raise ValueError("a bug in the library")

    monkeypatch.setattr("fer_sklearn.evaluation.evaluate", evaluate)
    with pytest.raises(ValueError, match="a bug in the library"):
        main(["evaluate", "--model", str(model_file), "--data", str(fer_csv), "--out",
              str(tmp_path)])


def test_debug_variable_gives_the_cause_of_a_usage_error(model_file, tmp_path, monkeypatch):
    monkeypatch.setenv("FER_SKLEARN_DEBUG", "1")
    with pytest.raises(CLIError, match="no such file or folder") as info:
        main(["evaluate", "--model", str(model_file), "--data", str(tmp_path / "missing.csv"),
              "--out", str(tmp_path)])
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_help_imports_nothing_heavy():
    code = ("import sys\nfrom fer_sklearn.cli import main\n"
            "assert main(['predict', '--help']) == 0\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'skorch', 'cv2', 'matplotlib', 'pandas') "
            "if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=SRC)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


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


def test_a_verbs_usage_error_points_to_its_own_help(capsys):
    assert main(["train", "--epochs", "x"]) == 2
    assert "(see 'fer-sklearn train --help')" in capsys.readouterr().err


def test_the_cli_refuses_a_csv_of_one_huge_line_with_exit_2(tmp_path, capsys):
    import gzip

    path = tmp_path / "huge.csv.gz"
    with gzip.open(path, "wb") as out:
        out.write(b"emotion,pixels,Usage\n0," + b"7" * 200_000)
    assert main(["train", "--data", str(path), "--out", str(tmp_path / "run")]) == 2
    assert "huge.csv.gz, line 2: longer than 65,536 characters" in capsys.readouterr().err


def test_train_init_fine_tunes_a_shipped_network(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("fer_sklearn.cli._common.SYNTHETIC_SIZES", (70, 35))
    out = tmp_path / "fine-tuned"
    assert main(["train", "--init", "fast", "--epochs", "1", "--threads", "1",
                 "--out", str(out)]) == 0
    model, fast = joblib.load(out / "model.joblib"), fer_sklearn.load_pretrained("fast")
    assert model[-1].module_.config == fast[-1].module_.config  # its network, not the default
    assert model.named_steps["normalize"].mean_ == fast.named_steps["normalize"].mean_
    assert model[-1].lr == 3e-4 and "initial_weights" in dict(model[-1].callbacks_ or [])
    assert main(["train", "--init", "accurate", "--out", str(tmp_path / "a")]) == 2
    assert "--init accurate is an ensemble" in capsys.readouterr().err
    assert main(["train", "--init", "fast", "--recipe", "s12", "--out", str(tmp_path / "b")]) == 2
    assert "give one of them" in capsys.readouterr().err

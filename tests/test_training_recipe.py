"""The shipped model's training recipe (benchmarks/train_pretrained.py) resumes where it stopped."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from fer_sklearn import make_faces

# compares predicted numbers: .ci/run runs it again under forced bf16 and int8
pytestmark = pytest.mark.precision


SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "train_pretrained.py"


@pytest.fixture(scope="module")
def recipe():
    spec = importlib.util.spec_from_file_location("train_pretrained", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def small_csv(tmp_path):
    X, y = make_faces(210, random_state=0)
    usage = ["Training"] * 140 + ["PublicTest"] * 70
    lines = ["emotion,pixels,Usage"] + [
        f"{label},{' '.join(map(str, image.ravel()))},{split}" for image, label, split in zip(X, y, usage)
    ]
    path = tmp_path / "faces.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_interrupted_training_resumes_from_its_last_epoch(recipe, small_csv, tmp_path, capsys):
    out = tmp_path / "run"
    recipe.main(["--data", str(small_csv), "--recipe", "tiny", "--epochs", "2", "--out", str(out)])
    first = json.loads((out / "last" / "history.json").read_text())
    assert len(first) == 2
    recipe.main(["--data", str(small_csv), "--recipe", "tiny", "--epochs", "3", "--out", str(out)])
    assert "resuming after epoch 2" in capsys.readouterr().out
    history = json.loads((out / "last" / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2, 3]
    # the first two epochs are kept as they were, not retrained
    assert [row["train_loss"] for row in history[:2]] == [row["train_loss"] for row in first]
    result = json.loads((out / "result.json").read_text())
    assert result["epochs"] == 3 and 0 <= result["public_test_accuracy"] <= 1
    assert (out / "pipeline.joblib").exists()


def test_tta_averages_mirrored_and_shifted_views(fitted_pipeline, faces):
    from fer_sklearn.neural_net._tta import test_time_views

    X, _ = faces
    images = np.asarray(X[:4], dtype=np.float32)[:, None]
    views = test_time_views(images, 2)
    assert len(views) == 10
    np.testing.assert_array_equal(views[1], images[..., ::-1])
    assert len(test_time_views(images, 0)) == 2
    clf = fitted_pipeline[-1]
    Xt = fitted_pipeline[:-1].transform(X[:4])
    clf.set_params(tta=True, tta_shift=0)
    try:
        tta = clf.predict_proba(Xt)
    finally:
        clf.set_params(tta=False)
    plain = clf.predict_proba(Xt)
    mirrored = clf.predict_proba(np.ascontiguousarray(Xt[..., ::-1]))
    np.testing.assert_allclose(tta, (plain + mirrored) / 2, rtol=1e-5)

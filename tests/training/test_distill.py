"""Distillation as an estimator: DistilledEmotionClassifier, its cache and `fer-sklearn distill`."""

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from fer_sklearn import EmotionClassifier, load_model, save_model
from fer_sklearn.training import (
    BatchTeacher,
    DistillationLoss,
    DistilledEmotionClassifier,
    InitialWeights,
)

from ..conftest import TINY_NET, in_float32

# compares predicted numbers: .ci/run runs it again under forced bf16 and int8
pytestmark = pytest.mark.precision


class CountingTeacher:
    """A fitted teacher that counts the faces it is asked about."""

    def __init__(self, teacher):
        self.teacher = teacher
        self.classes_ = teacher.classes_
        self.seen = 0

    def predict_proba(self, X):
        self.seen += len(X)
        return self.teacher.predict_proba(X)


@pytest.fixture(scope="module")
def data():
    from fer_sklearn import make_faces

    X, y = make_faces(140, size=24, random_state=0)
    return (X / 255).astype(np.float32), y


@pytest.fixture(scope="module")
def teacher(data):
    return EmotionClassifier(random_state=0, validation_fraction=None, **TINY_NET).fit(*data)


def student(teacher, **params):
    return DistilledEmotionClassifier(
        teacher=teacher, **{**TINY_NET, "max_epochs": 2, "n_views": 2, "random_state": 0, **params})


@pytest.fixture(scope="module")
def fitted_student(teacher, data):
    return student(teacher).fit(*data)


def test_loss_mixes_the_teacher_and_the_labels():
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    teacher = torch.log_softmax(torch.tensor([[2.0, 0.0, -1.0]]), 1)
    rows = torch.cat([torch.tensor([[1.0]]), teacher], 1)
    ce = torch.nn.functional.cross_entropy(logits, torch.tensor([1]))
    assert DistillationLoss(alpha=1.0)(logits, rows).item() == pytest.approx(0.0, abs=1e-6)
    assert DistillationLoss(alpha=0.0)(logits, rows).item() == pytest.approx(ce.item())
    assert DistillationLoss(alpha=0.5)(logits, torch.tensor([1])).item() == pytest.approx(ce.item())
    unlabelled = torch.cat([torch.tensor([[-1.0]]), teacher], 1)
    assert DistillationLoss(alpha=0.0)(logits, unlabelled).item() == 0.0


def test_student_learns_and_predicts_probabilities(fitted_student, data):
    X, y = data
    proba = fitted_student.predict_proba(X[:5])
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert len(fitted_student.history_) == 2
    assert fitted_student.history_[-1, "train_acc"] > 0


def test_clone_keeps_the_fitted_teacher_and_grid_search_runs(teacher, fitted_student, data):
    copy = clone(fitted_student)
    assert copy.teacher is teacher and copy.alpha == 0.75 and not hasattr(copy, "module_")
    search = GridSearchCV(student(teacher, max_epochs=1), {"alpha": [0.25, 0.9]}, cv=2).fit(*data)
    assert search.best_params_["alpha"] in (0.25, 0.9)


def test_save_model_writes_the_student_without_its_teacher(fitted_student, data, tmp_path):
    save_model(fitted_student, tmp_path / "student.safetensors")
    loaded = load_model(tmp_path / "student.safetensors")
    assert type(loaded) is EmotionClassifier
    assert "teacher" not in loaded.get_params()
    np.testing.assert_allclose(loaded.predict_proba(data[0]), fitted_student.predict_proba(data[0]),
                               atol=1e-6)
    again = pickle.loads(pickle.dumps(fitted_student))
    np.testing.assert_array_equal(again.predict(data[0]), fitted_student.predict(data[0]))


def test_teacher_outputs_are_cached_and_reused(teacher, data, tmp_path):
    counting = CountingTeacher(teacher)
    student(counting, cache_dir=str(tmp_path)).fit(*data)
    first = counting.seen
    assert first >= 2 * len(data[1]) and len(list(tmp_path.glob("copy-*.npy"))) == 2
    student(counting, cache_dir=str(tmp_path)).fit(*data)
    assert counting.seen - first < len(data[1])  # only the few faces that fingerprint the teacher


def test_unlabelled_faces_learn_from_the_teacher(teacher, data):
    X, y = data
    fitted = student(teacher, n_views=1).fit(X[:100], y[:100], X_unlabelled=X[100:])
    assert fitted.history_[0, "train_batch_count"] == int(np.ceil(0.9 * 100 / 32 + 40 / 32))
    with pytest.raises(ValueError, match="needs a teacher"):
        student(None).fit(X, y, X_unlabelled=X[:5])


def test_batch_teacher_runs_the_teachers_network_where_the_batch_is(teacher, data):
    X, _ = data
    teacher = in_float32(teacher)  # the copy on the device runs the float32 network
    expected = np.log(teacher.predict_proba(X[:16]))
    mine = BatchTeacher(teacher, np.arange(len(teacher.classes_)), "cpu", (24, 24))
    assert mine.network is not None and mine.network is not teacher.module_
    np.testing.assert_allclose(mine(torch.as_tensor(X[:16, None])).numpy(), expected, atol=1e-4)
    backwards = np.arange(len(teacher.classes_))[::-1].copy()
    reordered = BatchTeacher(teacher, backwards, "cpu", (24, 24))
    np.testing.assert_allclose(reordered(torch.as_tensor(X[:16, None])).numpy(),
                               expected[:, ::-1], atol=1e-4)
    # another image size, or anything but a plain fitted classifier: its predict_proba
    counting = CountingTeacher(teacher)
    for other in (BatchTeacher(teacher, np.arange(7), "cpu", (48, 48)),
                  BatchTeacher(counting, np.arange(7), "cpu", (24, 24))):
        assert other.network is None
    np.testing.assert_allclose(BatchTeacher(counting, np.arange(7), "cpu", (24, 24))(
        torch.as_tensor(X[:16, None])).numpy(), expected, atol=1e-5)
    assert counting.seen == 16


def test_teacher_on_every_batch_labels_each_augmented_batch(teacher, data):
    X, y = data
    counting = CountingTeacher(teacher)
    fitted = student(counting, n_views=None, mixup=0.4).fit(X, y)
    n_train = sum(b["train_batch_size"] for b in fitted.history_[0]["batches"]
                  if "train_batch_size" in b)
    assert 0 < n_train < len(y) and counting.seen == 2 * n_train  # each training face, each epoch
    assert fitted._batch_teacher is None  # the teacher's copy goes with fit
    on_device = student(teacher, n_views=None).fit(X, y)
    assert np.allclose(on_device.predict_proba(X[:4]).sum(axis=1), 1, atol=1e-5)
    assert clone(on_device).n_views is None
    with pytest.raises(ValueError, match="cached copies"):
        student(teacher, n_views=None).fit(X, y, X_unlabelled=X[:5])


def test_teacher_must_be_fitted_and_know_the_classes(data):
    X, y = data
    with pytest.raises(TypeError, match="predict_proba"):
        student(object()).fit(X, y)
    with pytest.raises(ValueError, match="not the name of a shipped model"):
        student("no-such-model").fit(X, y)
    other = EmotionClassifier(random_state=0, validation_fraction=None,
                              **{**TINY_NET, "max_epochs": 1})
    other.fit(X[y < 3], y[y < 3])
    with pytest.raises(ValueError, match="does not know the classes"):
        student(other).fit(X, y)


def test_initial_weights_start_from_a_saved_model(fitted_student, data, tmp_path):
    path = tmp_path / "start.safetensors"
    save_model(fitted_student, path)
    net = EmotionClassifier(random_state=1, callbacks=[InitialWeights(str(path))],
                            **{**TINY_NET, "max_epochs": 1, "lr": 1e-9})
    net.fit(*data)
    for key, value in fitted_student.module_.state_dict().items():
        if value.is_floating_point() and "running" not in key:
            torch.testing.assert_close(net.module_.state_dict()[key], value, atol=1e-5, rtol=0)


def test_cli_distills_a_shipped_student_shape_and_resumes_only_the_same_run(
        fitted_pipeline, tmp_path, capsys):
    from fer_sklearn.cli import main

    from ..cli.test_cli import _write_fer_csv

    csv = tmp_path / "faces.csv"
    _write_fer_csv(csv, 120)
    teacher = tmp_path / "teacher.safetensors"
    save_model(fitted_pipeline, teacher)
    args = ["distill", "--teacher", str(teacher), "--student", "fast", "--data", str(csv),
            "--epochs", "1", "--views", "1", "--threads", "1", "--out", str(tmp_path / "run")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "fast as shipped" in out and "Best PublicTest accuracy" in out
    model = load_model(tmp_path / "run" / "model.safetensors")
    assert model[-1].module_.features[0][0].out_channels == 16  # the shape of fast
    assert (tmp_path / "run" / "report.html").is_file()
    assert list((tmp_path / "run" / "teacher-cache").glob("copy-*.npy"))
    first = model[-1].predict_proba(np.zeros((2, 24, 24), np.float32))
    (tmp_path / "run" / "model.safetensors").unlink()
    assert main(args + ["--resume", "--finish"]) == 0  # the best epoch, written again
    again = load_model(tmp_path / "run" / "model.safetensors")
    np.testing.assert_allclose(again[-1].predict_proba(np.zeros((2, 24, 24), np.float32)), first,
                               atol=1e-6)
    capsys.readouterr()
    assert main(args + ["--resume", "--lr", "0.5"]) == 2
    assert "lr was" in capsys.readouterr().err
    # the factory exports such a run as a shipped model: the best epoch, its record
    weights = tmp_path / "weights"
    script = Path(__file__).resolve().parents[2] / "factory" / "export_distilled.py"
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "run"), "--name", "fast",
                           "--stem", "s16", "--weights", str(weights)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    exported = load_model(weights / "fast.safetensors")
    np.testing.assert_allclose(exported[-1].predict_proba(np.zeros((2, 24, 24), np.float32)),
                               first, atol=2e-3)  # its weights in float16


def test_cli_views_0_has_the_teacher_label_every_batch(fitted_pipeline, tmp_path, capsys):
    from fer_sklearn.cli import main

    from ..cli.test_cli import _write_fer_csv

    csv, teacher = tmp_path / "faces.csv", tmp_path / "teacher.safetensors"
    _write_fer_csv(csv, 80)
    save_model(fitted_pipeline, teacher)
    args = ["distill", "--teacher", str(teacher), "--student", "fast", "--data", str(csv),
            "--epochs", "1", "--threads", "1", "--out", str(tmp_path / "run")]
    assert main(args + ["--views", "0"]) == 0
    assert "the teacher on every batch" in capsys.readouterr().out
    assert load_model(tmp_path / "run" / "model.safetensors")[-1].predict(
        np.zeros((2, 24, 24), np.float32)).shape == (2,)
    assert not list((tmp_path / "run").glob("teacher-cache/copy-*.npy"))
    assert main(args + ["--views", "-1"]) == 2
    assert "expected an integer >= 0" in capsys.readouterr().err


def test_batch_teacher_runs_under_the_students_autocast(teacher, data):
    X, _ = data
    bf16 = BatchTeacher(teacher, np.arange(7), "cpu", (24, 24), autocast_dtype=torch.bfloat16)
    out = bf16(torch.as_tensor(X[:8, None]))
    assert out.dtype == torch.float32  # log-probabilities in float32 for the loss
    np.testing.assert_allclose(out.exp().sum(1).numpy(), 1, atol=1e-3)
    np.testing.assert_allclose(out.numpy(), np.log(teacher.predict_proba(X[:8])), atol=0.1)

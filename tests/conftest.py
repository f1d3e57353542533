"""Shared fixtures: seeding, small synthetic data, tiny fitted models, the FER2013 file."""

import copy

import numpy as np
import pytest
import torch

from fer_sklearn import EMOTIONS, make_emotion_pipeline, make_faces
from fer_sklearn.datasets import fer2013_file

FER2013_CSV = fer2013_file()

# the tests' networks are tiny: one thread is as fast, and leaves the other core free
torch.set_num_threads(1)

# a network small enough to train in a second or two on 2 CPU cores
TINY_NET = dict(module__width=4, module__depth=2, module__hidden_units=16, max_epochs=3,
                batch_size=32, lr=3e-3)


# What precision="auto" keeps of float32's answers, by the arithmetic it runs: the share of
# labels kept and the largest change of a probability. Measured on the shipped models over the
# 3,589 PublicTest faces (benchmarks/bench_precision_agreement.py, results/precision_agreement*):
# bf16 kept 99.64-99.92% of the labels, a probability moved by 0.017 at most; int8 with VNNI
# 99.30-99.39% and 0.127; int8 without VNNI (7-bit activations) 98.55-99.02% and 0.085. The
# tolerances below leave room for other faces and networks.
AUTO_TOLERANCE = {"32": (1.0, 1e-5), "bf16": (0.99, 0.04), "int8": (0.99, 0.2),
                  "int8 without VNNI": (0.98, 0.2)}


def auto_tolerance(model):
    """``(labels kept, largest |dp|)`` that ``model``'s ``precision="auto"`` keeps of float32.

    Parameters
    ----------
    model : fitted pipeline or EmotionClassifier
        Its classifier's ``inference_precision()`` names the arithmetic.
    """
    from fer_sklearn.neural_net._int8 import cpu_has_vnni

    precision = (model[-1] if hasattr(model, "steps") else model).inference_precision()
    if precision == "int8" and not cpu_has_vnni():
        precision = "int8 without VNNI"
    return AUTO_TOLERANCE[precision]


def in_float32(model):
    """A copy of a fitted ``model`` that predicts in float32 (``precision="32"``).

    ``precision="auto"`` is bf16 on CPUs with AMX and int8 on CPUs with VNNI (for
    models with int8 ranges): a test that checks float32 equivalence (folding, ONNX,
    a teacher's outputs) asks for float32.
    """
    model = copy.deepcopy(model)
    (model[-1] if hasattr(model, "steps") else model).set_params(precision="32")
    return model


@pytest.fixture
def force_auto(monkeypatch):
    """``force_auto("bf16")`` makes ``precision="auto"`` resolve to bf16 (as a CPU with AMX
    would choose), through ``FER_SKLEARN_PRECISION``; the process's choice comes back after."""
    from fer_sklearn.utils import cpu_precision

    def force(precision):
        monkeypatch.setenv("FER_SKLEARN_PRECISION", precision)
        cpu_precision.cache_clear()

    yield force
    monkeypatch.undo()
    cpu_precision.cache_clear()


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def faces():
    """210 synthetic 24x24 faces (30 per emotion) with emotion-name labels."""
    X, y = make_faces(210, size=24, random_state=0)
    return X, np.array(EMOTIONS)[y]


@pytest.fixture(scope="session")
def fitted_pipeline(faces):
    """A tiny pipeline fitted on the synthetic faces (resized to 24x24)."""
    X, y = faces
    pipe = make_emotion_pipeline(random_state=0, **TINY_NET)
    pipe.set_params(resize__size=24)
    return pipe.fit(X, y)


@pytest.fixture(scope="session")
def fer2013_csv():
    if not FER2013_CSV.exists():
        pytest.skip(f"FER2013 is not at {FER2013_CSV}: set FER_SKLEARN_DATA to the folder that "
                    "holds fer2013/fer2013.csv.gz (on the project's machines: ../shared/data)")
    return FER2013_CSV

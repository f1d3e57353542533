"""Shared fixtures: seeding, small synthetic data, tiny fitted models, the FER2013 file."""

from pathlib import Path

import numpy as np
import pytest
import torch

from fer_sklearn import EMOTIONS, make_emotion_pipeline, make_faces

FER2013_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"

# the tests' networks are tiny: one thread is as fast, and leaves the other core free
torch.set_num_threads(1)

# a network small enough to train in a second or two on 2 CPU cores
TINY_NET = dict(module__width=4, module__depth=2, module__hidden_units=16, max_epochs=3,
                batch_size=32, lr=3e-3)


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
        pytest.skip(f"FER2013 is not at {FER2013_CSV} (it lives in ../shared on the project's machines)")
    return FER2013_CSV

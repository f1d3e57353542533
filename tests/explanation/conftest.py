"""Fixtures of the saliency tests: the shipped models, loaded once, and faces that ship."""

import numpy as np
import pytest

from fer_sklearn import EMOTIONS, load_pretrained, make_faces


@pytest.fixture(scope="session")
def shipped():
    """The shipped models by name, each loaded once (``precision`` may be set per test)."""
    return {name: load_pretrained(name) for name in ("fast", "default", "accurate")}


@pytest.fixture(scope="session")
def drawn_faces():
    """14 synthetic 48x48 faces (uint8) and their emotion names."""
    X, y = make_faces(14, random_state=1)
    return X, np.array(EMOTIONS)[y]

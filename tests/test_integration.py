"""End to end on real FER2013: a newcomer's first training learns beyond the majority class.

``fer-sklearn train --quick`` as the training guide gives it (the recipe of a small network on
8,000 faces for 5 epochs): about 90 s on 2 cores, hence slow.
"""

import json

import numpy as np
import pytest
import torch

from fer_sklearn import load_fer2013
from fer_sklearn.cli import main


@pytest.mark.fer2013
@pytest.mark.slow
def test_a_quick_training_learns_beyond_the_majority_class(fer2013_csv, tmp_path, capsys):
    out = tmp_path / "quick"
    try:  # both cores, as a newcomer's machine gives them
        assert main(["train", "--data", str(fer2013_csv), "--quick", "--threads", "2",
                     "--out", str(out)]) == 0
    finally:
        torch.set_num_threads(1)  # the suite's setting (conftest)
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    _, y = load_fer2013(fer2013_csv, usage="PublicTest", return_X_y=True)
    majority = np.bincount(y).max() / len(y)  # 0.25 (happy); chance is 1/7
    # measured 44.9% and 0.326 (docs/guide/training.md); the guide promises 35% and 0.20
    assert metrics["accuracy"] >= 0.35 > majority + 0.09
    assert metrics["f1_macro"] >= 0.20
    assert "Training on 8000 faces drawn from" in capsys.readouterr().out

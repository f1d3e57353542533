"""End to end on real FER2013: a small pipeline trained for a few epochs beats chance by far."""

import numpy as np
import pytest

from fer_sklearn import load_fer2013, make_emotion_pipeline


@pytest.mark.fer2013
@pytest.mark.slow
def test_small_model_on_fer2013_scores_public_test_well_above_chance(fer2013_csv):
    fer = load_fer2013(fer2013_csv)
    X, y, usage = fer.data, fer.target, fer.usage
    train, valid = np.flatnonzero(usage == "Training")[:4000], np.flatnonzero(usage == "PublicTest")
    pipe = make_emotion_pipeline(
        module__width=8, module__depth=3, module__hidden_units=64, max_epochs=6, batch_size=64,
        lr=3e-3, random_state=0, augment=False,
    )
    pipe.fit(X[train], y[train], X_valid=X[valid][:1000], y_valid=y[valid][:1000])
    accuracy = (pipe.predict(X[valid]) == y[valid]).mean()
    majority = np.bincount(y[valid]).max() / len(valid)  # 0.25 (happy); chance is 1/7
    assert accuracy > majority + 0.07, accuracy

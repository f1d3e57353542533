"""Model files saved by earlier versions keep loading and predicting the same.

``tests/data/pipeline-0.1.0.joblib`` is a tiny pipeline fitted and saved with
fer-sklearn 0.1.0 (commit 36c9ff9, the flat layout), with its predictions on ten
synthetic faces beside it. Budget: about 1 s.
"""

from pathlib import Path

import joblib
import numpy as np
from sklearn.base import clone

DATA = Path(__file__).parent / "data"


def test_pipeline_saved_by_0_1_0_loads_and_predicts_the_same():
    model = joblib.load(DATA / "pipeline-0.1.0.joblib")
    expected = np.load(DATA / "pipeline-0.1.0-expected.npz")
    np.testing.assert_allclose(model.predict_proba(expected["X"]), expected["proba"], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict(expected["X"]), expected["labels"])
    clf = model[-1]
    assert clf.get_params()["precision"] == "auto"  # a parameter added since
    assert clone(model)[-1].precision == "auto"

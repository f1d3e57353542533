"""quantize: int8 prediction on the CPU that stays close to float32 and survives pickling.

Budget: about 10 s on 2 CPU cores (a tiny 24x24 pipeline).
"""

import pickle

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from skorch import NeuralNetClassifier

from fer_sklearn import make_emotion_pipeline
from fer_sklearn.deploy import quantize

from ..conftest import TINY_NET, in_float32

# compares predicted numbers: .ci/run runs it again under forced bf16 and int8
pytestmark = pytest.mark.precision


@pytest.fixture(scope="module")
def int8(fitted_pipeline, faces):
    X, _ = faces
    return quantize(fitted_pipeline, X, n_images=100)


def test_int8_predictions_stay_close_to_float32(int8, fitted_pipeline, faces):
    X, _ = faces
    expected = in_float32(fitted_pipeline).predict_proba(X)
    proba = int8.predict_proba(X)
    assert not np.array_equal(proba, expected)  # another network answered
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert np.abs(proba - expected).max() < 0.1
    assert (proba.argmax(1) == expected.argmax(1)).mean() > 0.9
    quantized = int8[-1]._fast_predictor().network
    assert any("quantized" in type(m).__module__ for m in quantized.modules())
    assert not hasattr(fitted_pipeline[-1], "int8_calibration_")  # the original is untouched
    assert int8[-1].int8_calibration_.shape == (100, 1, 24, 24)


def test_int8_model_pickles_and_follows_training(int8, faces):
    X, y = faces
    proba = int8.predict_proba(X[:20])
    copy = pickle.loads(pickle.dumps(int8))
    np.testing.assert_array_equal(copy.predict_proba(X[:20]), proba)  # rebuilt the same
    copy[-1].partial_fit(copy[:-1].transform(X), y)
    assert not np.allclose(copy.predict_proba(X[:20]), proba)
    assert copy[-1].precision == "int8"
    copy.set_params(clf__precision="32")  # back to float32: skorch's own path agrees
    eager = NeuralNetClassifier.predict_proba(copy[-1], copy[:-1].transform(X[:20])[:, None])
    np.testing.assert_allclose(copy.predict_proba(X[:20]), eager, atol=1e-5)


def test_refuses_what_it_cannot_quantize(faces):
    X, y = faces
    with pytest.raises(TypeError, match="emotion pipeline or EmotionClassifier"):
        quantize(DummyClassifier().fit(X.reshape(len(X), -1), y), X)
    with pytest.raises(NotFittedError):
        quantize(make_emotion_pipeline(**TINY_NET), X)


@pytest.mark.parametrize("full_range, quant_max", [(True, 255), (False, 127)])
def test_activations_use_8_bits_only_where_the_cpu_has_vnni(full_range, quant_max):
    from fer_sklearn.neural_net import _int8

    observer = _int8.int8_qconfig_mapping(full_range).global_qconfig.activation()
    assert observer.quant_max - observer.quant_min == quant_max


def test_the_cpu_decides_the_activation_range(monkeypatch, fitted_pipeline, faces):
    from fer_sklearn.neural_net import _int8

    X, _ = faces
    proba = {}
    for vnni in (True, False):
        monkeypatch.setattr(_int8, "cpu_has_vnni", lambda vnni=vnni: vnni)
        proba[vnni] = quantize(fitted_pipeline, X, n_images=100).predict_proba(X)
    assert not np.array_equal(proba[True], proba[False])


@pytest.mark.parametrize("vnni, quant_max", [(True, 255), (False, 127)])
def test_shipped_ranges_use_7_bits_without_vnni(monkeypatch, vnni, quant_max):
    from fer_sklearn import load_pretrained
    from fer_sklearn.neural_net import _int8

    monkeypatch.setattr(_int8, "cpu_has_vnni", lambda: vnni)
    clf = load_pretrained("fast", device="cpu")[-1]
    network = _int8.quantize_network(clf.module_, ranges=clf.int8_ranges_)
    low, high = clf.int8_ranges_["ranges"]["activation_post_process_0"]  # the input's range
    assert float(network.features_0_0_input_scale_0) == pytest.approx((high - low) / quant_max,
                                                                      rel=1e-5)

"""Prediction through the folded network: same answers as the trained one, never stale.

Budget: about 5 s on 2 CPU cores (tiny networks on 24x24 synthetic faces).
"""

import pickle

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier
from torch import nn

from fer_sklearn import EmotionClassifier, EmotionCNN, EnsembleCNN
from fer_sklearn.neural_net._folding import fold_batch_norm

from ..conftest import TINY_NET

# compares predicted numbers: .ci/run runs it again under forced bf16 and int8
pytestmark = pytest.mark.precision


@pytest.fixture(scope="module")
def small(faces):
    X, y = faces
    return X.astype(np.float32) / 255, y


@pytest.fixture
def clf(small):
    """float32: folding must give the trained network's numbers, whatever auto is here."""
    X, y = small
    return EmotionClassifier(random_state=0, device="cpu", precision="32", **TINY_NET).fit(X, y)


def _eager_proba(clf, X):
    """skorch's own prediction path, through the unfolded module."""
    return NeuralNetClassifier.predict_proba(clf, X[:, None])


def test_folded_predictions_match_the_trained_network(clf, small):
    X, _ = small
    np.testing.assert_allclose(clf.predict_proba(X), _eager_proba(clf, X), atol=1e-5)
    folded = clf._fast_predictor().network
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in clf.module_.modules())  # untouched


def test_folding_covers_every_member_of_an_ensemble():
    torch.manual_seed(0)
    members = [EmotionCNN(width=4, depth=2), EmotionCNN(width=6, depth=2, convs_per_block=3)]
    net = EnsembleCNN(members).eval()
    for member in members:  # non-trivial running statistics
        for bn in [m for m in member.modules() if isinstance(m, nn.BatchNorm2d)]:
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
    folded = fold_batch_norm(net)
    x = torch.randn(3, 1, 24, 24)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in folded.modules()) == 0
    torch.testing.assert_close(folded(x), net(x), atol=1e-5, rtol=1e-4)


def test_predictions_follow_further_training_and_new_weights(clf, small):
    X, y = small
    before = clf.predict_proba(X[:20])
    clf.partial_fit(X, y)  # weights change in place
    after = clf.predict_proba(X[:20])
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, _eager_proba(clf, X[:20]), atol=1e-5)
    with torch.no_grad():
        clf.module_.head[-1].bias.add_(5.0)  # an edit by hand, too
    np.testing.assert_allclose(clf.predict_proba(X[:20]), _eager_proba(clf, X[:20]), atol=1e-5)


def test_the_folded_copy_is_cached_outside_the_estimator(clf, small):
    X, _ = small
    expected = clf.predict_proba(X[:5])
    assert clf._fast_predictor() is clf._fast_predictor()  # built once
    assert not any("predictor" in name for name in vars(clf))  # not in the estimator's state
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(copy.predict_proba(X[:5]), expected, atol=1e-6)


def test_a_cpu_network_sees_small_passes_whatever_the_batch_size(clf, small):
    from fer_sklearn.neural_net._predictor import CPU_CHUNK

    X, _ = small
    X = np.concatenate([X] * (2 * CPU_CHUNK // len(X) + 2))[:2 * CPU_CHUNK + 5]
    predictor = clf.set_params(batch_size=4 * CPU_CHUNK)._fast_predictor()
    sizes = []
    hook = predictor.network.register_forward_hook(lambda m, args, out: sizes.append(len(out)))
    try:
        proba = clf.predict_proba(X)
    finally:
        hook.remove()
    assert sizes == [CPU_CHUNK, CPU_CHUNK, 5]
    np.testing.assert_allclose(proba, _eager_proba(clf, X), atol=1e-5)


def test_one_thread_rule_for_a_few_faces_and_the_cores_for_many(monkeypatch):
    from fer_sklearn.neural_net._predictor import torch_threads
    from fer_sklearn.utils import _threads, prediction_threads, thread_share

    monkeypatch.setattr(_threads, "available_cores", lambda: 2)
    assert prediction_threads(1, threads=2) == 1
    assert prediction_threads(_threads.SMALL_BATCH, threads=2) == 1
    assert prediction_threads(1000, threads=2) == 2
    assert prediction_threads(1000, threads=8) == 2  # never more than the cores
    assert prediction_threads(1000, threads=1) == 1  # the caller's count is kept
    assert thread_share(2) == 1 and thread_share(4, cores=16) == 4
    torch.set_num_threads(2)
    try:
        with torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)  # the tests' setting (conftest)


def test_cores_are_counted_once_the_sklearn_way(monkeypatch):
    import joblib

    from fer_sklearn.utils import _threads

    assert _threads.available_cores() == max(1, joblib.cpu_count())
    monkeypatch.setattr(joblib, "cpu_count", lambda: 1 / 0)
    _threads.available_cores()  # cached: not counted again per call


def test_a_pipeline_passes_a_large_array_through_its_steps_in_chunks(fitted_pipeline, faces,
                                                                     monkeypatch):
    import sklearn

    X, _ = faces
    whole = fitted_pipeline.predict_proba(X)
    first = fitted_pipeline.steps[0][1]
    sizes = []
    transform = first.transform
    monkeypatch.setattr(first, "transform", lambda images: sizes.append(len(images)) or
                        transform(images))
    with sklearn.config_context(working_memory=1):  # MiB: 14 images of 48x48 or less a chunk
        proba = fitted_pipeline.predict_proba(X)
        labels = fitted_pipeline.predict(X)
    assert sizes[:len(sizes) // 2] == [14] * 15 and sum(sizes) == 2 * len(X)
    np.testing.assert_allclose(proba, whole, atol=1e-5)
    np.testing.assert_array_equal(labels, fitted_pipeline.classes_[whole.argmax(1)])
    sizes.clear()
    fitted_pipeline.predict_proba(list(X[:20]))  # a list goes through whole
    assert sizes == [20]


def test_several_threads_take_whole_chunks_with_the_same_answers(clf, small, monkeypatch):
    from fer_sklearn.neural_net._predictor import CPU_CHUNK
    from fer_sklearn.utils import _threads

    X, _ = small
    X = np.concatenate([X] * (3 * CPU_CHUNK // len(X) + 1))[:3 * CPU_CHUNK + 7]
    one = clf.set_params(tta=True).predict_proba(X)  # one thread (conftest)
    monkeypatch.setattr(_threads, "available_cores", lambda: 2)
    torch.set_num_threads(2)
    try:
        two = clf.predict_proba(X)
        assert torch.get_num_threads() == 2  # the caller's setting is left as it was
    finally:
        torch.set_num_threads(1)
        clf.set_params(tta=False)
    np.testing.assert_array_equal(two, one)  # each chunk on one torch thread either way

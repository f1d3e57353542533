"""Training speed options: bf16 autocast (``precision``) and batches cut on the device.

Budget: about 10 s on 2 CPU cores (tiny networks on 24x24 synthetic faces).
"""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

from fer_sklearn import EmotionClassifier
from fer_sklearn.neural_net._batches import DeviceBatches, in_memory_arrays

from ..conftest import TINY_NET

# compares predicted numbers: .ci/run runs it again under forced bf16 and int8
pytestmark = pytest.mark.precision


@pytest.fixture(scope="module")
def small(faces):
    X, y = faces
    return X.astype(np.float32) / 255, y


def _conv_output_dtypes(clf, X):
    """dtypes of the first convolution's output while ``clf`` predicts ``X``."""
    seen = []
    conv = next(m for m in clf.module_.modules() if isinstance(m, nn.Conv2d))
    handle = conv.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    try:
        proba = clf.predict_proba(X)
    finally:
        handle.remove()
    return set(seen), proba


def test_precision_is_a_parameter_and_clones(small):
    clf = EmotionClassifier(precision="bf16")
    assert clf.get_params()["precision"] == "bf16"
    assert clone(clf).precision == "bf16"
    assert EmotionClassifier().precision == "auto"


def test_cpu_run_stays_float32_unless_asked(small, force_auto):
    force_auto("32")  # a CPU without AMX or VNNI
    X, y = small
    clf = EmotionClassifier(random_state=0, **TINY_NET).fit(X, y)  # precision="auto"
    dtypes, proba = _conv_output_dtypes(clf, X[:8])
    assert dtypes == {torch.float32}
    assert clf.module_.features[0][0].weight.is_contiguous()  # no channels-last off CUDA
    bf16 = EmotionClassifier(random_state=0, precision="bf16", **TINY_NET).fit(X, y)
    dtypes, proba_bf16 = _conv_output_dtypes(bf16, X[:8])
    assert dtypes == {torch.bfloat16}
    assert proba_bf16.dtype == np.float32  # outputs and losses stay float32
    np.testing.assert_allclose(proba_bf16.sum(axis=1), 1, rtol=1e-5)
    assert np.isfinite(bf16.history[:, "train_loss"]).all()


def test_training_batches_come_from_the_device_and_are_shuffled(small):
    X, y = small
    clf = EmotionClassifier(random_state=0, **TINY_NET).fit(X, y)
    dataset = clf.get_dataset(X[:, None], np.arange(len(X)))
    batches = clf.get_iterator(dataset, training=True)
    assert isinstance(batches, DeviceBatches)
    first = torch.cat([yb for _, yb in batches]).numpy()
    second = torch.cat([yb for _, yb in batches]).numpy()
    assert sorted(first) == list(range(len(X)))  # every image once per epoch
    assert not np.array_equal(first, second)  # a new order every epoch
    assert len(batches) == -(-len(X) // TINY_NET["batch_size"])
    # images and labels stay paired
    for xb, yb in batches:
        np.testing.assert_array_equal(xb.numpy(), X[yb.numpy()][:, None])
    assert not isinstance(clf.get_iterator(dataset, training=False), DeviceBatches)


def test_iterator_options_fall_back_to_skorch(small):
    X, y = small
    codes = np.arange(len(X))
    dataset = EmotionClassifier().get_dataset(X[:, None], codes)
    fixed = EmotionClassifier(iterator_train__shuffle=False, batch_size=50)
    in_order = torch.cat([yb for _, yb in fixed.get_iterator(dataset, training=True)]).numpy()
    np.testing.assert_array_equal(in_order, codes)
    workers = EmotionClassifier(iterator_train__num_workers=0)
    assert isinstance(workers.get_iterator(dataset, training=True), torch.utils.data.DataLoader)


def test_in_memory_arrays_of_subsets(small):
    X, y = small
    dataset = EmotionClassifier().get_dataset(X[:, None], np.arange(len(X)))
    subset = torch.utils.data.Subset(dataset, [3, 1, 4])
    Xs, ys = in_memory_arrays(subset)
    np.testing.assert_array_equal(ys, [3, 1, 4])
    np.testing.assert_array_equal(Xs, X[[3, 1, 4]][:, None])
    assert in_memory_arrays(torch.utils.data.TensorDataset(torch.zeros(2))) is None

"""The training recipes (fer_sklearn.training): each trains, the loop's host work, the callbacks."""

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback

from fer_sklearn import EMOTIONS, EmotionClassifier, EmotionCNN, load_model, make_faces, save_model
from fer_sklearn.training import (
    EMA,
    InitialWeights,
    ProgressLog,
    TimeBudget,
    WarmupCosine,
    ensemble_classifier,
    make_recipe,
    mix_batch,
)

from ..conftest import TINY_NET

# compares predicted numbers: .ci/run runs it again under forced bf16 and int8
pytestmark = pytest.mark.precision


@pytest.fixture(scope="module")
def faces():
    X, y = make_faces(96, size=24, random_state=0)
    return (X / 255).astype(np.float32), y


class Record(Callback):
    """The learning rate of every training step, and the weights at the start."""

    def on_train_begin(self, net, **kwargs):
        self.start_ = {k: v.clone() for k, v in net.module_.state_dict().items()}
        self.lrs_ = []

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.lrs_.append(net.optimizer_.param_groups[0]["lr"])


@pytest.mark.parametrize("name", ["fast", "default", "accurate"])
def test_each_recipe_trains_a_few_batches(name, faces):
    X, y = faces
    estimators = make_recipe(name, max_epochs=1, batch_size=32)
    estimators = estimators if isinstance(estimators, list) else [estimators]
    for clf in estimators:
        clf.fit(X[:64], y[:64], X_valid=X[64:], y_valid=y[64:])
        assert clf.history_[-1, "train_batch_count"] == 2
        assert np.isfinite(clf.history_[-1, "train_loss"])
        assert clf.predict_proba(X[:3]).shape == (3, 7)
    if name == "accurate":
        ensemble = ensemble_classifier(estimators).set_params(precision="32")  # as the logits
        logits = sum(c.module_.eval()(torch.as_tensor(X[:4, None])) for c in estimators) / 3
        np.testing.assert_allclose(ensemble.predict_proba(X[:4]),
                                   torch.softmax(logits, 1).detach().numpy(), atol=1e-5)


def test_make_recipe_refuses_unknown_names_and_teachers_for_members():
    with pytest.raises(ValueError, match="no recipe named"):
        make_recipe("huge")
    with pytest.raises(ValueError, match="takes no teacher"):
        make_recipe("accurate", teacher="accurate")


def test_the_loss_is_read_from_the_device_once_an_epoch(faces, monkeypatch):
    X, y = faces
    reads = []
    item = torch.Tensor.item

    def counting_item(tensor):  # reads of a result of the graph (a loss), not of host counters
        if tensor.grad_fn is not None:
            reads.append(1)
        return item(tensor)

    monkeypatch.setattr(torch.Tensor, "item", counting_item)
    for batch_size in (8, 32):
        reads.clear()
        net = EmotionClassifier(random_state=0, validation_fraction=None, early_stopping=False,
                                lr_schedule=None,
                                **{**TINY_NET, "max_epochs": 1, "batch_size": batch_size})
        net.fit(X, y)
        assert not reads  # the epoch's losses are read together, after the loop
        losses = [b["train_loss"] for b in net.history_[-1, "batches"]]
        assert len(losses) == len(X) // batch_size and all(np.isfinite(losses))
    reads.clear()  # skorch's own loop waits for the device at every step
    NeuralNetClassifier(EmotionCNN, module__width=4, module__depth=2, max_epochs=1, batch_size=8,
                        train_split=None, verbose=0).fit(X[:, None], y.astype(np.int64))
    assert len(reads) == len(X) // 8


def test_warmup_cosine_sets_the_rate_every_step(faces):
    X, y = faces
    record = Record()
    net = EmotionClassifier(random_state=0, validation_fraction=None, early_stopping=False,
                            lr_schedule=None, callbacks=[WarmupCosine(warmup=0.25), record],
                            **{**TINY_NET, "max_epochs": 2, "batch_size": 12, "lr": 0.01})
    net.fit(X, y)
    lrs = record.lrs_
    assert len(lrs) == 16 and max(lrs) == pytest.approx(0.01, rel=0.05)
    peak = int(np.argmax(lrs))
    assert 2 <= peak <= 5 and all(np.diff(lrs[:peak + 1]) > 0) and all(np.diff(lrs[peak:]) < 0)
    assert lrs[-1] < 0.001
    assert WarmupCosine(warmup=0.1, floor=0.2).factor(1.0) == pytest.approx(0.2)


def test_time_budget_stops_on_time(faces):
    X, y = faces
    net = EmotionClassifier(random_state=0, validation_fraction=None, lr_schedule=None,
                            callbacks=[TimeBudget(1e-3)], **{**TINY_NET, "max_epochs": 5})
    net.fit(X, y)
    assert len(net.history_) == 1 and net.history_[-1, "stopped_by_budget"]


def test_ema_validates_and_keeps_the_average(faces):
    X, y = faces
    record = Record()
    net = EmotionClassifier(random_state=0, early_stopping=False, lr_schedule=None,
                            callbacks=[record, ("ema", EMA(decay=1.0))], **TINY_NET)
    net.fit(X, y)  # an average that never moves: the network ends as it started
    for key, value in net.module_.state_dict().items():
        if value.is_floating_point():  # (the step counters of batch norm do move)
            torch.testing.assert_close(value, record.start_[key])
    assert net.history_[-1, "train_loss"] < net.history_[0, "train_loss"] + 1.0


def test_mixup_and_cutmix(faces, tmp_path):
    images = torch.as_tensor(faces[0][:16, None])
    mixed, other, lam = mix_batch(images, 0.0, 1.0, rng=np.random.RandomState(0))
    changed = (mixed != images).any(dim=0)[0].float().mean().item()
    assert 0 <= lam <= 1 and changed <= 1 - lam + 1e-6
    mixed, other, lam = mix_batch(images, 0.4, 0.0, rng=np.random.RandomState(1))
    torch.testing.assert_close(mixed, lam * images + (1 - lam) * images[other])
    X, y = faces
    net = EmotionClassifier(mixup=0.4, cutmix=1.0, random_state=0, **TINY_NET).fit(X, y)
    save_model(net, tmp_path / "mixed.safetensors")
    loaded = load_model(tmp_path / "mixed.safetensors")
    assert type(loaded) is EmotionClassifier and loaded.get_params()["mixup"] == 0.4
    np.testing.assert_allclose(loaded.predict_proba(X), net.predict_proba(X), atol=1e-6)


def test_cli_trains_a_recipe(tmp_path, capsys):
    from fer_sklearn.cli import main

    out = tmp_path / "run"
    args = ["train", "--recipe", "s12", "--epochs", "1", "--limit", "150", "--out", str(out)]
    assert main(args) == 0
    model = load_model(out / "model.safetensors")
    assert model[-1].module_.features[0][0].out_channels == 12
    assert "lr" in capsys.readouterr().out
    assert main(["train", "--recipe", "accurate", "--out", str(tmp_path / "a")]) == 2
    assert "ensemble_classifier" in capsys.readouterr().err


def test_progress_log_prints_within_epochs(faces, capsys):
    X, y = faces
    EmotionClassifier(random_state=0, callbacks=[ProgressLog(every=0)], **TINY_NET).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if "images/s" in line]
    assert lines[0].startswith("epoch 1: 1/3 batches") and len(lines) == 9


def test_initial_weights_give_each_class_its_own_output(faces, tmp_path):
    # a network fitted on FER2013's codes (classes 0-6, EMOTIONS' order) starts one of the
    # same shape whose classes are the names in sorted order: each name gets its code's unit
    X, codes = faces
    source = EmotionClassifier(random_state=0, precision="32", **TINY_NET).fit(X, codes)
    path = save_model(source, tmp_path / "codes.safetensors")
    names = sorted(EMOTIONS)
    net = EmotionClassifier(classes=names, precision="32", **{
        k: v for k, v in TINY_NET.items() if k.startswith("module__")}).initialize_fitted(
        source.image_shape_)
    InitialWeights(str(path)).on_train_begin(net)
    expected = source.predict_proba(X[:8])[:, [EMOTIONS.index(n) for n in names]]
    np.testing.assert_allclose(net.predict_proba(X[:8]), expected, atol=1e-6)

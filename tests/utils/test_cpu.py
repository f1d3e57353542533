"""precision: what the CPU's features choose, its fallbacks, and the knob itself.

Budget: about 10 s on 2 CPU cores (a tiny 24x24 pipeline, the shipped ``fast`` model on
synthetic faces). Agreement on FER2013's PublicTest is measured by
``benchmarks/bench_speed.py`` (the ``labels as float32`` column), not here.
"""

import io
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

import fer_sklearn
from fer_sklearn import EmotionClassifier, load_pretrained, make_faces
from fer_sklearn.deploy import quantize
from fer_sklearn.neural_net._int8 import cpu_has_vnni
from fer_sklearn.utils import _cpu

# compares predicted numbers: .ci/run runs it again under forced bf16 and int8
pytestmark = pytest.mark.precision


XEON_AMX = {"avx2": True, "avx512_f": True, "avx512_vnni": True, "avx512_bf16": True,
            "amx_tile": True, "amx_bf16": True, "amx_int8": True}
EPYC_ZEN5 = {"avx2": True, "avx512_f": True, "avx512_vnni": True, "avx512_bf16": True}
AVX2_ONLY = {"avx2": True}


@pytest.mark.parametrize("caps, environ, expected", [
    (XEON_AMX, {}, "bf16"),
    (EPYC_ZEN5, {}, "int8"),
    (AVX2_ONLY, {}, "32"),
    ({}, {}, "32"),  # no flags read (an old torch, cpuinfo failed, another architecture)
    (XEON_AMX, {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI"}, "int8"),  # AMX switched off
    (XEON_AMX, {"ATEN_CPU_CAPABILITY": "avx2"}, "32"),  # running as an AVX2 CPU
    (EPYC_ZEN5, {"ONEDNN_MAX_CPU_ISA": "AVX2"}, "32"),
    (EPYC_ZEN5, {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}, "32"),  # as an AVX-512 CPU without VNNI
    (XEON_AMX, {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX"}, "bf16"),
])
def test_the_cpu_features_choose_the_precision(caps, environ, expected):
    features = _cpu.cpu_features(caps, environ)
    assert _cpu.choose_precision(features, int8_engine=True) == expected


def test_without_the_int8_engine_vnni_stays_float32():
    features = _cpu.cpu_features(EPYC_ZEN5, {})
    assert _cpu.choose_precision(features, int8_engine=False) == "32"


def test_the_choice_is_made_once_per_process_and_reported(monkeypatch):
    first = _cpu.cpu_precision()
    assert first in ("bf16", "int8", "32")
    other = "32" if first != "32" else "bf16"
    monkeypatch.setattr(_cpu, "choose_precision", lambda *a, **k: other)
    assert _cpu.cpu_precision() == first  # not asked again
    out = io.StringIO()
    fer_sklearn.show_versions(file=out)
    assert f"precision auto (CPU): {first}" in out.getvalue()
    assert "isa: " in out.getvalue() and "cores (joblib.cpu_count): " in out.getvalue()


@pytest.mark.parametrize("value, expected", [("bf16", "bf16"), ("INT8", "int8"), ("32", "32"),
                                             ("float32", "32"), ("auto", None), ("", None)])
def test_the_environment_forces_a_precision_on_auto(monkeypatch, value, expected):
    environ = {"FER_SKLEARN_PRECISION": value}
    assert _cpu.forced_precision(environ) == expected
    monkeypatch.setenv("FER_SKLEARN_PRECISION", value)
    _cpu.cpu_precision.cache_clear()
    try:
        chosen = _cpu.cpu_precision()
        assert chosen == expected or (expected is None and chosen == _cpu.choose_precision(
            _cpu.cpu_features()))
        assert _cpu.describe_cpu()["precision auto (CPU)"].endswith(
            "(forced by FER_SKLEARN_PRECISION)") == (expected is not None)
    finally:
        monkeypatch.undo()
        _cpu.cpu_precision.cache_clear()


def test_a_forced_precision_that_is_none_names_the_accepted_ones():
    with pytest.raises(ValueError, match="FER_SKLEARN_PRECISION='fp16' is not a precision: use "
                                         "bf16, int8, 32"):
        _cpu.forced_precision({"FER_SKLEARN_PRECISION": "fp16"})


def test_precision_is_checked_where_it_is_used(fitted_pipeline, faces):
    X, y = faces
    model = pickle.loads(pickle.dumps(fitted_pipeline)).set_params(clf__precision="garbage")
    with pytest.raises(ValueError, match="The 'precision' parameter of EmotionClassifier") as fit:
        pickle.loads(pickle.dumps(model)).fit(X[:20], y[:20])
    with pytest.raises(ValueError) as predict:
        model.predict(X[:3])
    assert str(predict.value) == str(fit.value)  # the same error as fit's, naming the values
    model.set_params(clf__precision="float32")  # a synonym of "32"
    assert model[-1].inference_precision() == "32"
    np.testing.assert_array_equal(model.predict_proba(X[:5]),
                                  model.set_params(clf__precision="32").predict_proba(X[:5]))


def test_unreadable_flags_mean_float32(monkeypatch):
    monkeypatch.setattr(torch.cpu, "get_capabilities", _missing, raising=False)
    assert _cpu._capabilities() == {}
    assert _cpu.choose_precision(_cpu.cpu_features(), int8_engine=True) == "32"


def _missing():
    raise AttributeError("get_capabilities")


@pytest.fixture(scope="module")
def fast():
    return load_pretrained("fast", device="cpu")


@pytest.fixture(scope="module")
def synthetic():
    return make_faces(200, size=48, random_state=1)[0]


@pytest.mark.parametrize("choice, expected", [("bf16", "bf16"), ("int8", "int8"), ("32", "32")])
def test_auto_follows_the_dispatch(fast, force_auto, choice, expected):
    force_auto(choice)
    model = fast
    assert model[-1].inference_precision() == expected
    model.predict(np.zeros((2, 48, 48), np.uint8))
    assert model[-1]._fast_predictor().precision == expected


def test_every_fast_path_keeps_the_labels_of_float32(fast, synthetic):
    proba = {p: fast.set_params(clf__precision=p).predict_proba(synthetic)
             for p in ("32", "bf16", "int8")}
    fast.set_params(clf__precision="auto")
    # without VNNI int8 activations have 7 bits (16-bit sums saturate): on a real AVX2 CPU
    # 94% of these synthetic faces keep their label, 98.6% of PublicTest's
    # (benchmarks/bench_int8_bits.py); with VNNI 8 bits keep 99.3%
    floor = {"bf16": 0.97, "int8": 0.97 if cpu_has_vnni() else 0.9}
    for p in ("bf16", "int8"):
        assert not np.array_equal(proba[p], proba["32"])  # another network answered
        assert (proba[p].argmax(1) == proba["32"].argmax(1)).mean() >= floor[p]


def test_precision_32_is_bit_stable(fast, synthetic):
    first = fast.set_params(clf__precision="32").predict_proba(synthetic[:70])
    again = pickle.loads(pickle.dumps(fast)).predict_proba(synthetic[:70])
    fast.set_params(clf__precision="auto")
    np.testing.assert_array_equal(first, again)


def test_int8_needs_ranges_and_auto_falls_back_without_them(fitted_pipeline, faces, force_auto):
    X, _ = faces
    force_auto("int8")
    model = pickle.loads(pickle.dumps(fitted_pipeline))
    assert model[-1].inference_precision() == "32"  # a fresh fit has no int8 ranges
    with pytest.raises(ValueError, match="quantize"):
        model.set_params(clf__precision="int8").predict(X[:3])
    assert quantize(model, X, n_images=50)[-1].inference_precision() == "int8"


def test_ranges_of_other_weights_are_ignored(fast, force_auto):
    force_auto("int8")
    model = pickle.loads(pickle.dumps(fast))
    assert model[-1].inference_precision() == "int8"
    with torch.no_grad():
        model[-1].module_.head[-1].bias.add_(1.0)  # new weights: the shipped ranges no longer fit
    assert model[-1].inference_precision() == "32"


def test_int8_is_refused_on_cuda(fast, monkeypatch):
    clf = pickle.loads(pickle.dumps(fast[-1])).set_params(precision="int8")
    monkeypatch.setattr(type(clf), "_on_cuda", lambda self: True)  # as if on a GPU
    with pytest.raises(ValueError, match="CPU only"):
        clf.inference_precision()


@pytest.mark.parametrize("name", fer_sklearn.available_models())
def test_every_shipped_model_carries_ranges_of_its_own_weights(name):
    clf = load_pretrained(name, device="cpu")[-1]
    assert clf._int8_source() is not None, (
        f"{name}.safetensors holds int8 ranges of other weights (or none): after replacing the "
        f"weights, run factory/calibrate_int8.py --models {name}")


class ConvDtypes(Callback):
    """Records the dtype of the first convolution's output in every training step."""

    def on_train_begin(self, net, **kwargs):
        self.seen = []
        conv = next(m for m in net.module_.modules() if isinstance(m, torch.nn.Conv2d))
        conv.register_forward_hook(lambda module, args, out: self.seen.append(out.dtype))


@pytest.mark.parametrize("choice, trains_in", [("bf16", torch.bfloat16), ("int8", torch.float32),
                                               ("32", torch.float32)])
def test_auto_trains_under_bf16_autocast_only_with_amx(force_auto, choice, trains_in):
    force_auto(choice)
    X, y = make_faces(40, size=24, random_state=0)
    dtypes = ConvDtypes()
    clf = EmotionClassifier(module__width=2, module__depth=2, module__hidden_units=8,
                            max_epochs=1, batch_size=20, device="cpu", verbose=0,
                            validation_fraction=None, random_state=0, callbacks=[dtypes])
    clf.fit(X / 255, y)
    assert dtypes.seen and set(dtypes.seen) == {trains_in}
    assert clf.history_[-1, "train_loss"] > 0


def test_cpu_training_benchmark_reports_what_auto_trains_in(tmp_path):
    out = tmp_path / "cpu_training.json"
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_cpu_training.py"
    done = subprocess.run(
        [sys.executable, str(script), "--networks", "s12", "--faces", "64", "--rounds", "1",
         "--threads", "1", "--out", str(out)], capture_output=True, text=True, timeout=600,
        env=dict(os.environ, FER_SKLEARN_PRECISION="bf16"))  # as a CPU with AMX chooses
    assert done.returncode == 0, done.stderr[-2000:]
    row, = json.loads(out.read_text())["rows"]
    assert row["auto trains in"] == "bf16" and float(row["auto images/s"]) > 0

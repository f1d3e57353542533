"""export_onnx: the ONNX file answers like the pipeline, with its classes in the metadata.

Budget: about 10 s on 2 CPU cores (tiny 24x24 pipelines; one shipped model).
"""

import builtins
import json

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from fer_sklearn import export_onnx, load_pretrained, make_emotion_pipeline

from ..conftest import TINY_NET, in_float32

# the ONNX file holds the float32 network: it is compared with the pipeline in float32
pytestmark = pytest.mark.precision

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _run(path, pixels):
    session = ort.InferenceSession(str(path))
    return session.run(None, {"pixels": pixels})[0]


@pytest.mark.parametrize("input_dtype", ["uint8", "float32"])
def test_onnx_answers_like_the_pipeline(fitted_pipeline, faces, tmp_path, input_dtype):
    X, _ = faces
    pixels = X.astype(input_dtype)
    path = export_onnx(fitted_pipeline, tmp_path / "model.onnx", input_dtype=input_dtype)
    proba = _run(path, pixels)
    expected = in_float32(fitted_pipeline).predict_proba(X)
    np.testing.assert_allclose(proba, expected, atol=1e-4)
    assert (proba.argmax(1) == expected.argmax(1)).mean() >= 0.999
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(props["classes"]) == fitted_pipeline.classes_.tolist()
    assert json.loads(props["input"])["dtype"] == input_dtype
    assert json.loads(props["preprocessing"])["size"] == 24


def test_tta_and_an_ensemble_are_exported_too(tmp_path):
    model = load_pretrained("accurate", tta=True, device="cpu")
    model.set_params(clf__precision="32")  # the file holds the float32 network
    faces = np.random.RandomState(0).randint(0, 256, size=(6, 48, 48)).astype(np.uint8)
    proba = _run(export_onnx(model, tmp_path / "accurate.onnx"), faces)
    np.testing.assert_allclose(proba, model.predict_proba(faces), atol=1e-4)


def test_refuses_what_it_cannot_export(fitted_pipeline, tmp_path):
    with pytest.raises(TypeError, match="fitted emotion pipeline"):
        export_onnx(fitted_pipeline[-1], tmp_path / "x.onnx")
    with pytest.raises(NotFittedError):
        export_onnx(make_emotion_pipeline(**TINY_NET), tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="input_dtype"):
        export_onnx(fitted_pipeline, tmp_path / "x.onnx", input_dtype="int64")


def test_without_onnx_it_names_the_extra(fitted_pipeline, tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx":
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(ImportError, match=r"pip install fer-sklearn\[onnx\]"):
        export_onnx(fitted_pipeline, tmp_path / "x.onnx")


def test_command_line_export(fitted_pipeline, faces, tmp_path, capsys):
    import joblib

    from fer_sklearn.cli import main

    joblib.dump(fitted_pipeline, tmp_path / "model.joblib")
    out = tmp_path / "model.onnx"
    assert main(["export", "--model", str(tmp_path / "model.joblib"), "--onnx", str(out)]) == 0
    assert "input 'pixels' uint8 (n, 24, 24)" in capsys.readouterr().out
    X, _ = faces
    np.testing.assert_allclose(_run(out, X[:5].astype(np.uint8)),
                               in_float32(fitted_pipeline).predict_proba(X[:5]), atol=1e-4)
    joblib.dump(fitted_pipeline[-1], tmp_path / "clf.joblib")  # a classifier, not a pipeline
    assert main(["export", "--model", str(tmp_path / "clf.joblib"), "--onnx", str(out)]) == 2
    assert "fitted emotion pipeline" in capsys.readouterr().err

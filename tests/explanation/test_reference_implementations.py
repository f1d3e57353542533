"""The maps against other implementations: Captum's Grad-CAM and occlusion (where Captum is
installed; it is not a dependency, see the user guide's page on explanations), and the
occlusion of an ONNX export (any classifier with predict_proba can be explained)."""

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from fer_sklearn import explain
from fer_sklearn.explanation._cam import gradient_copy


def test_gradcam_matches_captums_layergradcam(shipped, drawn_faces):
    captum = pytest.importorskip("captum.attr", reason="Captum is not installed (optional)")
    X, _ = drawn_faces
    model = shipped["default"]
    inputs = torch.from_numpy(model[:-1].transform(X)[:, None].copy())
    network = gradient_copy(model[-1].module_, torch.device("cpu"))
    last_block = network.features[-1]
    pre_pool = [layer for layer in last_block if not isinstance(layer, (nn.MaxPool2d,
                                                                        nn.Identity))][-1]
    cam = captum.LayerGradCam(lambda x: torch.log_softmax(network(x), dim=1), pre_pool)
    target = [list(model.classes_).index("surprise")] * len(X)
    theirs = cam.attribute(inputs, target=target, relu_attributions=True).detach()
    theirs = captum.LayerAttribution.interpolate(theirs, (48, 48), "bilinear")[:, 0].numpy()
    ours = explain(model, X, target="surprise", method="gradcam")
    theirs = theirs / np.maximum(theirs.max(axis=(1, 2), keepdims=True), 1e-12)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_occlusion_matches_captums(shipped, drawn_faces):
    captum = pytest.importorskip("captum.attr", reason="Captum is not installed (optional)")
    X, _ = drawn_faces
    model = shipped["fast"].set_params(clf__precision="32")
    faces = X[:3].astype(np.float32)

    def proba(x):
        return torch.from_numpy(model.predict_proba(x[:, 0].numpy()))

    # a 12-pixel square every 6 pixels inside the face, filled with each face's mean
    baselines = torch.from_numpy(faces.mean(axis=(1, 2)))[:, None, None, None]
    theirs = captum.Occlusion(proba).attribute(
        torch.from_numpy(faces[:, None]), sliding_window_shapes=(1, 12, 12), strides=(1, 6, 6),
        baselines=baselines, target=3, perturbations_per_eval=64)[:, 0].numpy()
    ours = explain(model, faces, target="happy", method="occlusion", normalize=False)
    # ours also slides squares half over the edges; inside, both average the same drops
    inside = (slice(None), slice(6, 42), slice(6, 42))
    rho = np.mean([spearmanr(a.ravel(), b.ravel())[0]
                   for a, b in zip(ours[inside], np.maximum(theirs, 0)[inside])])
    assert rho > 0.9


class OnnxClassifier:
    """An ONNX export as a classifier: predict_proba and classes_, nothing else."""

    def __init__(self, path, classes):
        import onnxruntime

        self.session = onnxruntime.InferenceSession(str(path))
        self.classes_ = np.asarray(classes)

    def predict_proba(self, X):
        return self.session.run(None, {"pixels": np.asarray(X, dtype=np.uint8)})[0]


def test_an_onnx_export_is_explained_by_occlusion(shipped, drawn_faces, tmp_path):
    pytest.importorskip("onnx", reason="needs the onnx extra")
    pytest.importorskip("onnxruntime")
    from fer_sklearn import export_onnx

    X, _ = drawn_faces
    model = shipped["fast"].set_params(clf__precision="32")
    onnx_model = OnnxClassifier(export_onnx(model, tmp_path / "fast.onnx"), model.classes_)
    maps = explain(onnx_model, X[:4])  # "auto": occlusion
    np.testing.assert_allclose(maps, explain(model, X[:4], method="occlusion"), atol=2e-3)
    with pytest.raises(TypeError, match="method='gradcam' needs a fitted EmotionClassifier"):
        explain(onnx_model, X[:4], method="gradcam")

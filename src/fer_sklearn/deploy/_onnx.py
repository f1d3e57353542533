"""export_onnx: a fitted emotion pipeline as one ONNX graph, raw pixels in, probabilities out."""

import json
import warnings
from pathlib import Path

import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..neural_net import EmotionClassifier, fold_batch_norm
from ..pipeline import EmotionPipeline
from ..preprocessing import Grayscale, ImageResizer, PixelNormalizer

_STEPS = (("grayscale", Grayscale), ("resize", ImageResizer), ("normalize", PixelNormalizer),
          ("clf", EmotionClassifier))


class PixelsToProbabilities(nn.Module):
    """Raw ``(n, size, size)`` grayscale pixels -> class probabilities, as the pipeline computes
    them.

    Standardises the pixels, runs the network (batch norm folded) on the
    image and, with test-time augmentation, on its mirrored and shifted views,
    and averages their softmax probabilities, as
    :meth:`EmotionClassifier.predict_proba` does.
    """

    def __init__(self, network, size, mean, scale, tta_shift=None):
        super().__init__()
        self.network = network
        self.size, self.mean, self.scale, self.tta_shift = (int(size), float(mean), float(scale),
                                                            tta_shift)

    def _views(self, x):
        views = [x, x.flip(-1)]
        s = self.tta_shift
        if s:
            h = w = self.size  # static, so that the graph keeps its shapes
            for view in (x, x.flip(-1)):
                padded = nn.functional.pad(view, (s, s, s, s), mode="replicate")
                for dy, dx in ((0, s), (2 * s, s), (s, 0), (s, 2 * s)):
                    views.append(padded[:, :, dy:dy + h, dx:dx + w])
        return views

    def forward(self, pixels):
        x = ((pixels.float() - self.mean) / self.scale).unsqueeze(1)
        views = [x] if self.tta_shift is None else self._views(x)
        probabilities = [torch.softmax(self.network(v), dim=1) for v in views]
        return sum(probabilities) / len(probabilities)


def fixed_pools(network, size):
    """Replace each ``AdaptiveAvgPool2d`` by the plain pooling it amounts to on ``size`` images.

    ONNX has no adaptive pooling to other than 1x1; on a fixed input size each
    one is an ``AvgPool2d`` (or nothing), found by running one blank image.
    """
    inputs = {}
    pools = [m for m in network.modules() if isinstance(m, nn.AdaptiveAvgPool2d)]

    def record(module, args, output):
        inputs[module] = tuple(args[0].shape[-2:])

    hooks = [m.register_forward_hook(record) for m in pools]
    with torch.no_grad():
        network(torch.zeros(1, 1, size, size))
    for hook in hooks:
        hook.remove()
    for parent in list(network.modules()):
        for name, child in parent.named_children():
            if child in inputs:
                (h, w), (oh, ow) = inputs[child], nn.modules.utils._pair(child.output_size)
                if (oh, ow) != (1, 1) and h % oh == 0 and w % ow == 0:
                    setattr(parent, name, nn.AvgPool2d((h // oh, w // ow)))
    return network


def _check_pipeline(model):
    if not isinstance(model, EmotionPipeline) or len(model.steps) != len(_STEPS) or any(
            name != expected or not isinstance(step, kind)
            for (name, step), (expected, kind) in zip(model.steps, _STEPS)):
        raise TypeError(
            "export_onnx takes a fitted emotion pipeline (grayscale, resize, normalize, clf: "
            f"make_emotion_pipeline() or load_pretrained()), got {type(model).__name__}"
        )
    check_is_fitted(model[-1])
    check_is_fitted(model.named_steps["normalize"])


def export_onnx(model, path, *, input_dtype="uint8", opset=17):
    """Write a fitted emotion pipeline as an ONNX file, its preprocessing folded in.

    The graph takes raw grayscale pixels ``(n, size, size)`` (``size`` is the
    pipeline's resize size, 48 for the shipped models) and returns the class
    probabilities ``(n, n_classes)`` in ``model.classes_`` order, test-time
    augmentation included when the classifier has ``tta=True``. The class
    names, the input and the preprocessing are written in the file's metadata
    (``classes``, ``input``, ``preprocessing``). Needs the ``onnx`` extra:
    ``pip install fer-sklearn[onnx]``.

    Parameters
    ----------
    model : EmotionPipeline
        A fitted pipeline from :func:`make_emotion_pipeline` or :func:`load_pretrained`.
    path : str or Path
        Where to write the ``.onnx`` file.
    input_dtype : {"uint8", "float32"}, default="uint8"
        The type of the pixels (0-255 either way).
    opset : int, default=17
        The ONNX opset.

    Returns
    -------
    path : Path
        The file written.

    Examples
    --------
    >>> import numpy as np, onnxruntime
    >>> from fer_sklearn import export_onnx, load_pretrained
    >>> path = export_onnx(load_pretrained("fast"), getfixture("tmp_path") / "fast.onnx")
    >>> session = onnxruntime.InferenceSession(str(path))
    >>> session.run(None, {"pixels": np.zeros((2, 48, 48), np.uint8)})[0].shape
    (2, 7)
    """
    try:
        import onnx
    except ImportError as exc:
        raise ImportError("export_onnx needs the onnx package: pip install "
                          "fer-sklearn[onnx]") from exc
    if input_dtype not in ("uint8", "float32"):
        raise ValueError(f"input_dtype must be 'uint8' or 'float32', got {input_dtype!r}")
    _check_pipeline(model)
    clf, normalizer = model[-1], model.named_steps["normalize"]
    size = model.named_steps["resize"].size
    tta_shift = clf.tta_shift if getattr(clf, "tta", False) else None
    network = fixed_pools(fold_batch_norm(clf.module_).cpu().float(), size)
    graph = PixelsToProbabilities(network, size,
                                  normalizer.mean_, normalizer.scale_, tta_shift).eval()
    example = torch.zeros((2, size, size), dtype=getattr(torch, input_dtype))
    path = Path(path)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals
        torch.onnx.export(graph, (example,), str(path), input_names=["pixels"],
                          output_names=["probabilities"], opset_version=opset, dynamo=False,
                          dynamic_axes={"pixels": {0: "n"}, "probabilities": {0: "n"}})
    onnx_model = onnx.load(str(path))
    onnx.helper.set_model_props(onnx_model, {
        "classes": json.dumps(clf.classes_.tolist()),
        "input": json.dumps({"name": "pixels", "shape": ["n", size, size], "dtype": input_dtype,
                             "range": "0-255 grayscale"}),
        "preprocessing": json.dumps({"mean": normalizer.mean_, "std": normalizer.scale_,
                                     "size": size, "tta_shift": tta_shift}),
        "producer": "fer_sklearn.export_onnx",
    })
    onnx.save(onnx_model, str(path))
    return path

"""Our shipped models as ``bench_speed.py`` times them: loaded, in variants, passes and latency."""

import time
from pathlib import Path

import numpy as np
from skorch import NeuralNetClassifier

from fer_sklearn import available_models, export_onnx, load_pretrained
from fer_sklearn.deploy import quantize

VARIANTS = ("eager", "quantize", "onnx", "32", "bf16", "int8")


class _Eager:
    """A shipped pipeline predicting through skorch's own path: the module as trained, batches
    collated by a DataLoader (how 0.1.0 predicted), for the table of what each step gave."""

    def __init__(self, model):
        self.model, self.classes_ = model, model.classes_

    def predict_proba(self, faces):
        images = self.model[:-1].transform(faces)[:, None]
        return NeuralNetClassifier.predict_proba(self.model[-1], images)


class _OnnxRuntime:
    """The pipeline exported with ``export_onnx``, run by onnxruntime."""

    def __init__(self, model, threads, path):
        import onnxruntime  # an optional extra

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        path = export_onnx(model, path)
        self.session = onnxruntime.InferenceSession(str(path), options)
        self.classes_ = model.classes_

    def predict_proba(self, faces):
        return self.session.run(None, {"pixels": faces})[0]


def load_ours(names, batch_size, threads, calibration, folder):
    """``load_pretrained(name, device="cpu")`` for each available name.

    A name may carry a variant: ``NAME:32``, ``NAME:bf16``, ``NAME:int8`` (the
    classifier's ``precision``; plain ``NAME`` is ``precision="auto"``, what the
    CPU dispatch chose), ``NAME:eager`` (skorch's predict path),
    ``NAME:quantize`` (:func:`fer_sklearn.deploy.quantize`, calibrated on
    ``calibration``) or ``NAME:onnx`` (:func:`fer_sklearn.export_onnx` run by
    onnxruntime with ``threads`` threads).

    Returns
    -------
    models : dict
        name -> (model with ``predict_proba`` and ``classes_``, info dict with load
        seconds and parameter count).
    """
    available = available_models()
    models = {}
    for spec in names:
        name, _, variant = spec.partition(":")
        if name not in available or (variant and variant not in VARIANTS):
            print(f"note: no shipped model {name!r} (available: {available}) or no variant "
                  f"{variant!r} (known: {VARIANTS}); {spec} skipped", flush=True)
            continue
        start = time.perf_counter()
        model = load_pretrained(name, device="cpu")
        model[-1].set_params(batch_size=batch_size)  # the classifier's inference batch (default 64)
        n_params = sum(p.numel() for p in model[-1].module_.parameters())
        if variant == "eager":
            model = _Eager(model)
        elif variant == "quantize":
            model = quantize(model, calibration)
        elif variant in ("32", "bf16", "int8"):
            model.set_params(clf__precision=variant)
        elif variant == "onnx":
            model = _OnnxRuntime(model, threads, Path(folder) / f"{name}.onnx")
        info = {"load_s": time.perf_counter() - start, "n_params": int(n_params)}
        if hasattr(model, "steps"):
            info["precision"] = model[-1].inference_precision()
        models[spec] = (model, info)
    return models


def ours_pass(model, faces, batch_size):
    """One timed pass of ``predict_proba`` over ``faces`` in chunks of ``batch_size``.

    Returns
    -------
    seconds : float
    proba : ndarray of shape (n, n_classes)
    """
    start = time.perf_counter()
    proba = np.concatenate([model.predict_proba(faces[i:i + batch_size])
                            for i in range(0, len(faces), batch_size)])
    return time.perf_counter() - start, proba


def ours_latency(model, faces, indices):
    """Seconds of ``predict_proba`` on one face, for each index."""
    seconds = []
    for i in indices:
        start = time.perf_counter()
        model.predict_proba(faces[i:i + 1])
        seconds.append(time.perf_counter() - start)
    return seconds


def compare_with_float32(models, probas, faces, batch_size):
    """For each model but ``NAME:32``, the share of labels and the largest probability change
    against the float32 model ``NAME:32`` (run here too, or loaded for the comparison)."""
    for spec, (_, info) in models.items():
        name, _, variant = spec.partition(":")
        if variant == "32":
            continue
        if f"{name}:32" not in probas:
            fp32 = load_pretrained(name, device="cpu").set_params(clf__precision="32")
            probas[f"{name}:32"] = ours_pass(fp32, faces, batch_size)[1]
        base, proba = probas[f"{name}:32"], probas[spec]
        info["labels_identical_to_float32"] = float(np.mean(base.argmax(1) == proba.argmax(1)))
        info["max_abs_proba_diff"] = float(np.abs(base - proba).max())
        print(f"{spec}: {info['labels_identical_to_float32']:.2%} labels identical to {name}:32, "
              f"probabilities within {info['max_abs_proba_diff']:.1e}", flush=True)

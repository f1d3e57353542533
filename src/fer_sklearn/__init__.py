"""fer_sklearn: facial expression recognition as a scikit-learn estimator.

A convolutional network (:class:`EmotionCNN`) wrapped as a skorch classifier
(:class:`EmotionClassifier`) inside a scikit-learn pipeline
(:func:`make_emotion_pipeline`), with FER2013 loaders and synthetic faces.

The areas, one subpackage each: ``io``, ``datasets``, ``preprocessing``, ``neural_net``,
``pipeline``, ``explanation`` (saliency maps, :func:`explain`), ``evaluation``, ``faces``,
``pretrained``, ``training`` (distillation), ``deploy`` (ONNX), ``cli`` and ``serve`` (HTTP,
the ``serve`` extra).
"""

import importlib

__version__ = "0.1.0"

# where each public name is defined: imported at first use, so that ``import fer_sklearn``
# (and ``fer-sklearn --help``) does not wait for torch, scikit-learn and OpenCV
_DEFINED_IN = {
    "EMOTIONS": "utils",
    "EmotionCNN": "neural_net",
    "EmotionClassifier": "neural_net",
    "EmotionPipeline": "pipeline",
    "EmotionRecognizer": "photos",
    "EnsembleCNN": "neural_net",
    "FaceCropper": "faces",
    "SaliencyDisplay": "explanation",
    "ImageAugmenter": "neural_net",
    "available_models": "pretrained",
    "detect_faces": "faces",
    "evaluate": "evaluation",
    "explain": "explanation",
    "export_onnx": "deploy",
    "load_fer2013": "datasets",
    "load_image_folder": "datasets",
    "load_model": "persistence",
    "load_pretrained": "pretrained",
    "make_emotion_pipeline": "pipeline",
    "make_faces": "datasets",
    "save_model": "persistence",
    "show_versions": "utils",
}
_SUBPACKAGES = ("cli", "datasets", "deploy", "distributed", "evaluation", "explanation", "faces",
                "io", "neural_net", "persistence", "photos", "pipeline", "preprocessing",
                "pretrained",
                "serve", "training", "utils")


__all__ = list(_DEFINED_IN)


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name not in _DEFINED_IN:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_DEFINED_IN[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBPACKAGES))

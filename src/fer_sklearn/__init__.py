"""fer_sklearn: facial expression recognition as a scikit-learn estimator.

A convolutional network (:class:`EmotionCNN`) wrapped as a skorch classifier
(:class:`EmotionClassifier`) inside a scikit-learn pipeline
(:func:`make_emotion_pipeline`), with FER2013 loaders and synthetic faces.

The areas, one subpackage each: ``datasets``, ``preprocessing``, ``neural_net``,
``pipeline``, ``evaluation``, ``faces``, ``pretrained`` and ``cli``.
"""

from ._compat import install_aliases
from .datasets import load_fer2013, load_image_folder, make_faces
from .evaluation import evaluate
from .faces import EmotionRecognizer, FaceCropper, detect_faces
from .neural_net import EmotionClassifier, EmotionCNN, EnsembleCNN, ImageAugmenter
from .pipeline import EmotionPipeline, make_emotion_pipeline
from .pretrained import available_models, load_pretrained
from .utils import EMOTIONS

__version__ = "0.1.0"

install_aliases()

__all__ = [
    "EMOTIONS",
    "EmotionCNN",
    "EmotionClassifier",
    "EmotionPipeline",
    "EmotionRecognizer",
    "EnsembleCNN",
    "FaceCropper",
    "ImageAugmenter",
    "available_models",
    "detect_faces",
    "load_fer2013",
    "load_image_folder",
    "load_pretrained",
    "evaluate",
    "make_emotion_pipeline",
    "make_faces",
]

"""fer_sklearn: facial expression recognition as a scikit-learn estimator.

A convolutional network (:class:`EmotionCNN`) wrapped as a skorch classifier
(:class:`EmotionClassifier`) inside a scikit-learn pipeline
(:func:`make_emotion_pipeline`), with FER2013 loaders and synthetic faces.
"""

from ._augment import ImageAugmenter
from ._classifier import EmotionClassifier
from ._cnn import EmotionCNN
from ._faces import FaceCropper, detect_faces
from ._fer2013 import load_fer2013
from ._image_folder import load_image_folder
from ._labels import EMOTIONS
from ._pipeline import EmotionPipeline, make_emotion_pipeline
from ._pretrained import available_models, load_pretrained
from ._recognizer import EmotionRecognizer
from ._synthetic import make_faces
from .evaluation import evaluate

__version__ = "0.1.0"

__all__ = [
    "EMOTIONS",
    "EmotionCNN",
    "EmotionClassifier",
    "EmotionPipeline",
    "EmotionRecognizer",
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

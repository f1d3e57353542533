"""The network and its scikit-learn classifier: EmotionCNN, EnsembleCNN, EmotionClassifier,
batch augmentation and learning-rate schedules."""

from ._augment import ImageAugmenter
from ._classifier import EmotionClassifier
from ._cnn import EmotionCNN, EnsembleCNN

__all__ = ["EmotionCNN", "EmotionClassifier", "EnsembleCNN", "ImageAugmenter"]

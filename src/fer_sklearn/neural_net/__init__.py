"""The network and its scikit-learn classifier: EmotionCNN, EnsembleCNN, EmotionClassifier,
batch augmentation, learning-rate schedules and int8 prediction (``quantize``); what inference
shares with the layers above (the device, torch's threads, batch-norm folding)."""

from ._augment import ImageAugmenter
from ._augment import mix_batch as mix_batch  # public in fer_sklearn.training
from ._batches import DeviceBatches as DeviceBatches  # for distillation and the factory
from ._classifier import EmotionClassifier
from ._cnn import EmotionCNN, EnsembleCNN
from ._cnn import ResidualPair as ResidualPair  # for persistence, which reads networks back
from ._device import resolve_device
from ._folding import fold_batch_norm
from ._int8 import quantize
from ._predictor import torch_threads
from ._schedules import WarmupCosine as WarmupCosine  # public in fer_sklearn.training

__all__ = ["EmotionCNN", "EmotionClassifier", "EnsembleCNN", "ImageAugmenter",
           "fold_batch_norm", "quantize", "resolve_device", "torch_threads"]

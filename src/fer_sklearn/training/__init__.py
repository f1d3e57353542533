"""Training the library's models: distillation from a fitted teacher, recipes and callbacks."""

from ._callbacks import InitialWeights
from ._distill import DistillationLoss, DistilledEmotionClassifier, resolve_teacher

__all__ = ["DistillationLoss", "DistilledEmotionClassifier", "InitialWeights", "resolve_teacher"]

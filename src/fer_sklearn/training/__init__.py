"""Training the library's models: recipes, distillation from a fitted teacher, callbacks.

:func:`make_recipe` gives the estimators the shipped models were trained with, and
:func:`ensemble_classifier` combines fitted networks into one; :class:`DistilledEmotionClassifier`
learns from any fitted model of the library (its teacher, :func:`resolve_teacher`, labelling
batches through :class:`BatchTeacher`); :class:`WarmupCosine`, :class:`TimeBudget`,
:class:`EMA`, :class:`InitialWeights` and :class:`ProgressLog` are skorch callbacks for any
:class:`~fer_sklearn.EmotionClassifier`, and :func:`mix_batch` the mixup/cutmix step its
``mixup`` and ``cutmix`` take.
"""

# defined with the classifier, which uses them (lr_schedule="cosine", mixup/cutmix)
from ..neural_net import WarmupCosine, mix_batch
from ._callbacks import EMA, InitialWeights, ProgressLog, TimeBudget
from ._distill import DistillationLoss, DistilledEmotionClassifier
from ._recipes import (
    AUGMENT,
    NETWORKS,
    RECIPES,
    available_recipes,
    ensemble_classifier,
    make_recipe,
)
from ._teacher import BatchTeacher, resolve_teacher

__all__ = [
    "AUGMENT",
    "EMA",
    "NETWORKS",
    "RECIPES",
    "BatchTeacher",
    "DistillationLoss",
    "DistilledEmotionClassifier",
    "InitialWeights",
    "ProgressLog",
    "TimeBudget",
    "WarmupCosine",
    "available_recipes",
    "ensemble_classifier",
    "make_recipe",
    "mix_batch",
    "resolve_teacher",
]

"""Training the library's models: recipes, distillation from a fitted teacher, callbacks.

:func:`make_recipe` gives the estimators the shipped models were trained with;
:class:`DistilledEmotionClassifier` learns from any fitted model of the library;
:class:`WarmupCosine`, :class:`TimeBudget`, :class:`EMA` and
:class:`InitialWeights` are skorch callbacks for any of them.
"""

# defined with the classifier, which uses them (lr_schedule="cosine", mixup/cutmix)
from ..neural_net import WarmupCosine, mix_batch
from ._callbacks import EMA, InitialWeights, ProgressLog, TimeBudget
from ._distill import DistillationLoss, DistilledEmotionClassifier
from ._recipes import NETWORKS, RECIPES, available_recipes, ensemble_classifier, make_recipe
from ._throughput import (SPEED_LEVERS, FastTrainingClassifier, plan_epochs, speed_levers,
                          time_training_steps, training_flops)
from ._packing import pack_networks, read_packed
from ._teacher import BatchTeacher, resolve_teacher

__all__ = ["BatchTeacher", "EMA", "NETWORKS", "RECIPES", "DistillationLoss",
           "DistilledEmotionClassifier",
           "InitialWeights", "ProgressLog", "TimeBudget", "WarmupCosine",
           "available_recipes", "ensemble_classifier", "make_recipe", "mix_batch",
           "resolve_teacher", "FastTrainingClassifier", "SPEED_LEVERS", "plan_epochs",
           "speed_levers", "time_training_steps", "training_flops", "pack_networks", "read_packed"]

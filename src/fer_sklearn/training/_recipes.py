"""The recipes of the shipped models, as configured estimators of the library.

Each recipe is the network, optimizer, schedule, augmentation and callbacks a
shipped model was trained with (``factory/RUNS.md``): AdamW (peak rate
2e-3 at batch 128, weight decay 0.05), warm-up over 3% of the steps then a
cosine to 0, set before every batch (:class:`WarmupCosine`), random shift,
rotation, zoom, flips and erasing on the device, the epoch of best validation
accuracy kept. The members of ``accurate`` use label smoothing 0.1; the
students ``s12``, ``s16`` (``fast``) and ``s24`` (``default``) learn from a
teacher when given one (KL at temperature 2, weight 0.75), from the labels
with smoothing 0.1 otherwise.
"""

import numpy as np
import torch
from skorch.callbacks import EarlyStopping

from ..neural_net import EmotionClassifier, EnsembleCNN, ImageAugmenter, WarmupCosine
from ._callbacks import EMA, TimeBudget
from ._distill import DistilledEmotionClassifier

_BASE = dict(depth=4, convs_per_block=2, hidden_units=256, dropout=0.4, block_dropout=0.05)
_STUDENT = dict(_BASE, hidden_units=128, dropout=0.2, block_dropout=0.0)
NETWORKS = {
    "m40": dict(_BASE, width=40),
    "m40p3": dict(_BASE, width=40, pool_size=3, hidden_units=128),
    "m32d3": dict(_BASE, width=32, convs_per_block=3),
    "s12": dict(_STUDENT, width=12),
    "s16": dict(_STUDENT, width=16),
    "s24": dict(_STUDENT, width=24, hidden_units=256, dropout=0.3),
}
"""The networks of the recipes (:class:`~fer_sklearn.EmotionCNN` arguments)."""
SEEDS = {"m40": 11, "m40p3": 12, "m32d3": 13, "s12": 21, "s16": 22, "s24": 23}
RECIPES = {"fast": ("s16",), "default": ("s24",), "accurate": ("m40", "m40p3", "m32d3"),
           **{name: (name,) for name in NETWORKS}}
"""Each recipe's networks: the shipped models' names and the networks' own."""
AUGMENT = dict(max_shift=0.1, max_rotation=12, max_scale=0.12, flip=True, erasing=0.25)
"""The recipes' augmentation (:class:`~fer_sklearn.ImageAugmenter` arguments)."""


def available_recipes():
    """List the names :func:`make_recipe` takes.

    Returns
    -------
    names : list of str
        The recipes' names.
    """
    return sorted(RECIPES)


def make_recipe(name, *, max_epochs=30, teacher=None, budget=None, patience=None, lr=2e-3,
                batch_size=128, label_smoothing=None, mixup=0.0, cutmix=0.0, ema=None,
                random_state="recipe", callbacks=(), **params):
    """The estimator(s) of a recipe, ready to ``fit``.

    Parameters
    ----------
    name : str
        One of :func:`available_recipes`: ``"fast"``, ``"default"``,
        ``"accurate"`` or a network's name (``"m40"``, ``"s16"``, ...).
    max_epochs : int, default=30
        Most epochs; the learning-rate curve spans them (or ``budget``).
    teacher : fitted model, str or None, default=None
        Distil from it (:class:`DistilledEmotionClassifier`); students only.
    budget : float or None, default=None
        Seconds of training: the curve spans them and training stops in time
        (:class:`TimeBudget`).
    patience : int or None, default=None
        Stop after this many epochs without a better validation accuracy;
        None never stops early. The best epoch is kept either way.
    lr, batch_size : float, int
        Peak learning rate and images per batch.
    label_smoothing : float or None, default=None
        None: 0.1, or 0 when distilling.
    mixup, cutmix : float, default=0.0
        Alphas of mixup and cutmix (0: off).
    ema : float or None, default=None
        Decay of an exponential moving average of the weights (:class:`EMA`).
    random_state : int, None or "recipe", default="recipe"
        ``"recipe"``: the seed of the network in the shipped run.
    callbacks : sequence of (name, callback), default=()
        More callbacks (checkpoints, progress), after the recipe's own.
    **params
        Other :class:`~fer_sklearn.EmotionClassifier` parameters.

    Returns
    -------
    estimator : EmotionClassifier, DistilledEmotionClassifier or list of EmotionClassifier
        One estimator, or for ``"accurate"`` the list of its members
        (combine them with :func:`ensemble_classifier` once fitted).
    """
    if name not in RECIPES:
        raise ValueError(f"no recipe named {name!r}; available: {available_recipes()}")
    networks = RECIPES[name]
    if teacher is not None and any(n.startswith("m") for n in networks):
        raise ValueError(f"the recipe {name!r} trains teachers (ensemble members); it takes no "
                         "teacher")
    estimators = [_network_recipe(
        network, max_epochs=max_epochs, teacher=teacher, budget=budget, patience=patience, lr=lr,
        batch_size=batch_size, label_smoothing=label_smoothing, mixup=mixup, cutmix=cutmix,
        ema=ema, random_state=SEEDS[network] if random_state == "recipe" else random_state,
        callbacks=list(callbacks), **params) for network in networks]
    return estimators if len(estimators) > 1 else estimators[0]


def _network_recipe(network, *, max_epochs, teacher, budget, patience, lr, batch_size,
                    label_smoothing, mixup, cutmix, ema, random_state, callbacks, **params):
    if label_smoothing is None:
        label_smoothing = 0.0 if teacher is not None else 0.1
    recipe = [("warmup_cosine", WarmupCosine(warmup=0.03, budget=budget)),
              ("best_epoch", EarlyStopping(monitor="valid_acc", lower_is_better=False,
                                           load_best=True, patience=patience or max_epochs + 1))]
    if ema:
        recipe.append(("ema", EMA(ema)))  # after the best epoch's bookkeeping, which keeps it
    if budget:
        recipe.append(("time_budget", TimeBudget(budget)))
    # the caller's last: a checkpoint then saves the epoch as the recipe's callbacks left it
    callbacks = recipe + callbacks
    settings = dict(
        optimizer=torch.optim.AdamW, optimizer__weight_decay=0.05, lr=lr, batch_size=batch_size,
        max_epochs=max_epochs, lr_schedule=None, early_stopping=False,
        criterion__label_smoothing=label_smoothing, augment=ImageAugmenter(**AUGMENT),
        mixup=mixup, cutmix=cutmix, random_state=random_state, callbacks=callbacks,
        **{f"module__{k}": v for k, v in NETWORKS[network].items()})
    settings.update(params)
    if teacher is not None:
        return DistilledEmotionClassifier(teacher=teacher, **settings)
    return EmotionClassifier(**settings)


def ensemble_classifier(classifiers):
    """One fitted :class:`~fer_sklearn.EmotionClassifier` averaging the logits of fitted ones.

    Parameters
    ----------
    classifiers : list of fitted EmotionClassifier
        Trained on images of one size, with the same classes in the same order.

    Returns
    -------
    ensemble : EmotionClassifier
        Its network is an :class:`~fer_sklearn.EnsembleCNN` of theirs.
    """
    first = classifiers[0]
    for clf in classifiers[1:]:
        if list(clf.classes_) != list(first.classes_) or clf.image_shape_ != first.image_shape_:
            raise ValueError("the members of an ensemble must share their classes and image size")
    network = EnsembleCNN([clf.module_ for clf in classifiers])
    ensemble = EmotionClassifier(module=network, classes=np.asarray(first.classes_),
                                 device=first.device)
    return ensemble.initialize_fitted(first.image_shape_)

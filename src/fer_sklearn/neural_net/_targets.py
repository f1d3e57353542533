"""Class labels of a classifier: the classes, their integer codes and their loss weights."""

import warnings

import numpy as np
from sklearn.utils.class_weight import compute_class_weight

from ..utils._labels import is_emotion_name, normalize_emotion_labels


def labels_for_fit(y, classes=None):
    """Training labels with each emotion name or alias written canonically (``"Happy"``,
    ``"happiness"`` -> ``"happy"``), so that they make one class.

    A text label that is no emotion (a typo such as ``"hapy"``) is a class of
    its own: accepted silently when the model was given its ``classes``,
    with a warning otherwise. Integer labels are kept.
    """
    y = normalize_emotion_labels(y)
    if classes is None and y.dtype == object:
        strange = sorted({str(v) for v in y.tolist() if not is_emotion_name(v)})
        if strange:
            warnings.warn(
                f"y holds labels that are no emotion: {strange[:5]}; each becomes a class of its "
                "own (a typo?). Pass classes=[...] to train on labels of your own.",
                UserWarning, stacklevel=4)
    return y


def fitted_classes(y, classes=None):
    """The classes of a fit: ``classes`` if given, else the sorted labels of ``y``.

    Raises
    ------
    ValueError
        If there are fewer than two classes.
    """
    classes = np.unique(y) if classes is None else normalize_emotion_labels(classes)
    if len(classes) < 2:
        raise ValueError(
            f"y holds a single class ({classes[0]!r}): one class is not enough, a classifier "
            "needs at least 2 classes"
        )
    return classes


def class_weights(class_weight, classes, y):
    """Loss weight of each class: ``None``, ``"balanced"`` (over the classes present) or a dict."""
    if class_weight is None:
        return None
    if isinstance(class_weight, str) and class_weight == "balanced":
        present = np.isin(classes, y)
        weight = np.ones(len(classes))
        weight[present] = compute_class_weight("balanced", classes=classes[present], y=y)
        return weight
    return np.array([class_weight.get(c, 1.0) for c in classes])


def encode_labels(y, classes, what="y"):
    """Integer codes of the labels ``y`` in ``classes`` order.

    Raises
    ------
    ValueError
        Naming the first label that is not one of ``classes``.
    """
    index = {label: code for code, label in enumerate(classes.tolist())}
    try:
        return np.fromiter((index[label] for label in y.tolist()), dtype=np.int64, count=len(y))
    except KeyError as exc:
        raise ValueError(
            f"{what} contains the unknown label {exc.args[0]!r}; the classes are {classes.tolist()}"
        ) from None

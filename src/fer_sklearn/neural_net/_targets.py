"""Class labels of a classifier: the classes, their integer codes and their loss weights."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.utils.class_weight import compute_class_weight

from ..utils import check_one_spelling, is_emotion_name, labels_like


def labels_for_fit(y, classes=None):
    """Training labels as the user gave them, matched to ``classes`` when these are given.

    Labels are never renamed: ``"Happy"`` stays ``"Happy"``, so that
    ``predict`` returns the user's own labels and scikit-learn's scorers agree
    with ``score``. With ``classes``, emotion names, aliases and codes in ``y``
    are written as the class of the same emotion (see
    :func:`~fer_sklearn.utils.labels_like`).

    Raises
    ------
    ValueError
        If one emotion is spelled in two ways in ``y`` (``"Happy"`` and
        ``"happy"``): that would silently make two classes of one emotion.

    Warns
    -----
    UserWarning
        Without ``classes``, for text labels that are no emotion (a typo such
        as ``"hapy"``): each becomes a class of its own.
    """
    if classes is not None:
        return labels_like(y, classes)
    check_one_spelling(y)
    _warn_about_codes(y)
    strange = sorted({v for v in y.tolist() if isinstance(v, str) and not is_emotion_name(v)})
    if strange and len(strange) < len(set(y.tolist())):  # a few odd ones among emotions
        warnings.warn(
            f"y holds labels that are no emotion: {strange[:5]}; each becomes a class of its "
            "own (a typo?). Pass classes=[...] to train on labels of your own.",
            UserWarning, stacklevel=4)
    return y


def _warn_about_codes(y):
    """Warn about labels that look like FER2013's codes 0-6 but cannot be read as emotions."""
    values = set(y.tolist())
    numbers = {v for v in values if isinstance(v, Integral) and not isinstance(v, bool)}
    outside = sorted(v for v in numbers if v not in range(7))
    if numbers and outside and len(outside) < len(numbers):
        warnings.warn(
            f"y holds integer labels outside FER2013's emotion codes 0-6: {outside[:5]}; each "
            "becomes a class without an emotion name. Pass classes=[...] to train on codes "
            "of your own.", UserWarning, stacklevel=4)
    digits = sorted(v for v in values if isinstance(v, str) and v.strip() in tuple("0123456"))
    if digits:
        warnings.warn(
            f"y holds the strings {digits[:7]}, not FER2013's codes 0-6 (integers): each "
            "becomes a class of its own, with no emotion name. Convert them with "
            "y.astype(int) if they are codes.", UserWarning, stacklevel=4)


def fitted_classes(y, classes=None):
    """The classes of a fit: ``classes`` as given, else the sorted labels of ``y``.

    Raises
    ------
    ValueError
        If there are fewer than two classes, or one emotion is spelled in two
        ways in ``classes``.
    """
    if classes is None:
        classes = np.unique(y)
    else:
        classes = np.asarray(classes)
        check_one_spelling(classes, "classes")
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

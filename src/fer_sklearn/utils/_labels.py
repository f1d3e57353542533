"""The seven FER2013 emotions, the aliases people use for them, and the label mappings.

The one place that maps between emotion names, their aliases and FER2013 codes:
:func:`emotion_from_name` (name or alias to name), :func:`emotion_codes` (names
to codes) and :func:`emotion_names` (codes or names to names).
"""

from numbers import Integral

import numpy as np

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""The emotion names in FER2013's label-code order (code ``i`` is ``EMOTIONS[i]``)."""

_ALIASES = {
    "anger": "angry",
    "mad": "angry",
    "disgusted": "disgust",
    "fearful": "fear",
    "afraid": "fear",
    "scared": "fear",
    "happiness": "happy",
    "joy": "happy",
    "sadness": "sad",
    "unhappy": "sad",
    "surprised": "surprise",
    "neutrality": "neutral",
    "calm": "neutral",
}
_CODES = {name: code for code, name in enumerate(EMOTIONS)}


def is_emotion_name(name):
    """Tell whether ``name`` is an emotion or a known alias (case-insensitive).

    Parameters
    ----------
    name : object
        A label.

    Returns
    -------
    is_emotion : bool
        True for an emotion name or alias in any case.
    """
    key = str(name).strip().lower()
    return key in _CODES or key in _ALIASES


def emotion_from_name(name):
    """Return the canonical emotion for a name or alias, case-insensitively.

    Parameters
    ----------
    name : str
        An emotion name such as ``"Happy"``, ``"happiness"`` or ``"anger"``.

    Returns
    -------
    emotion : str
        One of :data:`EMOTIONS`.

    Raises
    ------
    ValueError
        If the name is neither an emotion nor a known alias; the message lists
        the valid names.

    Examples
    --------
    >>> from fer_sklearn.utils import emotion_from_name
    >>> emotion_from_name(" Happiness ")
    'happy'
    """
    key = str(name).strip().lower()
    if key in _CODES:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(
        f"unknown emotion name {name!r}; valid names are {', '.join(EMOTIONS)} "
        f"(aliases: {', '.join(sorted(_ALIASES))})"
    )


def emotion_codes(names):
    """Map emotion names or aliases to FER2013 codes.

    Parameters
    ----------
    names : iterable of str
        Emotion names or aliases, any case.

    Returns
    -------
    codes : ndarray of int64
        ``EMOTIONS[code]`` is the name.

    Raises
    ------
    ValueError
        For a name that is no emotion (see :func:`emotion_from_name`).

    Examples
    --------
    >>> from fer_sklearn.utils import emotion_codes
    >>> emotion_codes(["surprised", "neutral", "Sadness"]).tolist()
    [5, 6, 4]
    """
    return np.array([_CODES[emotion_from_name(n)] for n in names], dtype=np.int64)


def emotion_names(labels, *, strict=True):
    """Map labels that are FER2013 codes or emotion names (or aliases) to emotion names.

    Parameters
    ----------
    labels : iterable of int or str
        Integer labels are read as FER2013 codes 0-6; strings as emotion
        names or aliases, any case.
    strict : bool, default=True
        Whether a string that is no emotion raises; with False it is kept as
        it is (e.g. a model's own class names).

    Returns
    -------
    names : list of str
        One emotion name (or kept label) per label.

    Raises
    ------
    ValueError
        For an integer outside 0-6, or (when ``strict``) a string that is no
        emotion.

    Examples
    --------
    >>> from fer_sklearn.utils import emotion_names
    >>> emotion_names([3, "Anger", 6])
    ['happy', 'angry', 'neutral']
    >>> emotion_names(["happy", "contempt"], strict=False)
    ['happy', 'contempt']
    """
    names = []
    for label in labels:
        if isinstance(label, Integral) and not isinstance(label, (bool, np.bool_)):
            if not 0 <= label < len(EMOTIONS):
                raise ValueError(f"{label} is not a FER2013 code 0-{len(EMOTIONS) - 1}")
            names.append(EMOTIONS[int(label)])
        elif strict or is_emotion_name(label):
            names.append(emotion_from_name(label))
        else:
            names.append(str(label))
    return names


def _is_text(values):
    return values.dtype.kind in "USO" and all(isinstance(v, str) for v in values.tolist())


def normalize_emotion_labels(y):
    """Write every emotion name or alias in ``y``, in any case, as its canonical name.

    Integer labels and strings that are no emotion are kept as they are.

    Parameters
    ----------
    y : ndarray
        Labels.

    Returns
    -------
    y : ndarray
        The same labels (object strings when text).

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn.utils import normalize_emotion_labels
    >>> normalize_emotion_labels(np.array(["Happy", "happiness", "cat"])).tolist()
    ['happy', 'happy', 'cat']
    """
    y = np.asarray(y)
    if not _is_text(y):
        return y
    return np.array(emotion_names(y.tolist(), strict=False), dtype=object)


def labels_like(y, classes):
    """``y`` written in the labels a model was fitted on (its ``classes_``).

    Labels that are classes are kept. Otherwise emotions are matched: FER2013
    codes 0-6, emotion names and aliases (any case) become the class that
    spells the same emotion (``"Happiness"`` -> ``"Happy"`` for a model fitted
    on ``"Happy"``; -> ``3`` for a model of codes). Other labels are kept, so
    that the model can say which ones it does not know.

    Parameters
    ----------
    y : array-like
        Labels, e.g. the codes of :func:`~fer_sklearn.load_fer2013`.
    classes : array-like
        The model's ``classes_``.

    Returns
    -------
    y : ndarray
        The labels, emotions written as ``classes`` writes them.

    Raises
    ------
    ValueError
        For text that is no emotion given to a model of codes.

    Examples
    --------
    >>> from fer_sklearn import EMOTIONS
    >>> from fer_sklearn.utils import labels_like
    >>> labels_like([3, 0], EMOTIONS).tolist()
    ['happy', 'angry']
    >>> labels_like(["happiness", "Sad"], ["Happy", "Sad"]).tolist()
    ['Happy', 'Sad']
    >>> labels_like(["Happiness", "sad"], list(range(7))).tolist()
    [3, 4]
    """
    y, classes = np.asarray(y), np.asarray(classes)
    if _is_text(classes):
        spelling = {emotion_from_name(c): c for c in classes.tolist() if is_emotion_name(c)}
        known = set(classes.tolist())
        if _is_text(y):
            return np.array([_as_class(v, known, spelling) for v in y.tolist()], dtype=object)
        if (y.dtype.kind in "iuf" and len(y) and np.all(y == np.round(y))
                and y.min() >= 0 and y.max() < len(EMOTIONS)):
            return np.array([spelling.get(EMOTIONS[int(v)], EMOTIONS[int(v)]) for v in y.tolist()],
                            dtype=object)
        return y
    if classes.dtype.kind in "iu" and _is_text(y):
        # a name that is no emotion: the error lists the valid ones
        return emotion_codes(y.tolist())
    return y


def _as_class(label, known, spelling):
    if label in known or not is_emotion_name(label):
        return label
    return spelling.get(emotion_from_name(label), label)


def check_one_spelling(labels, what="y"):
    """Raise if one emotion is spelled in two ways among ``labels`` (``"Happy"`` and ``"joy"``).

    Such labels would make two classes of one emotion, or be merged without
    the user seeing it; the caller should write each emotion one way.

    Parameters
    ----------
    labels : array-like
        Class labels.
    what : str, default="y"
        The name of the labels in the message.

    Raises
    ------
    ValueError
        Naming the emotion, its spellings and the fix.

    Examples
    --------
    >>> from fer_sklearn.utils import check_one_spelling
    >>> check_one_spelling(["Happy", "Sad", "Happy"])
    >>> check_one_spelling(["Happy", "joy"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: y spells the emotion 'happy' in 2 ways: 'Happy', 'joy'. ...
    """
    values = np.asarray(labels)
    if not _is_text(values):
        return
    spellings = {}
    for label in dict.fromkeys(values.tolist()):
        if is_emotion_name(label):
            spellings.setdefault(emotion_from_name(label), []).append(label)
    for emotion, found in spellings.items():
        if len(found) > 1:
            raise ValueError(
                f"{what} spells the emotion {emotion!r} in {len(found)} ways: "
                f"{', '.join(map(repr, found))}. Each spelling would be a class of its own; write "
                f"each emotion one way, e.g. "
                f"{what} = fer_sklearn.utils.normalize_emotion_labels({what}) for the canonical "
                "names"
            )

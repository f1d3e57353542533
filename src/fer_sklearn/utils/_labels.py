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
    """Whether ``name`` is an emotion or a known alias (case-insensitive)."""
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

"""The seven FER2013 emotions and the folder-name aliases people use for them."""

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
    """
    key = str(name).strip().lower()
    if key in EMOTIONS:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(
        f"unknown emotion name {name!r}; valid names are {', '.join(EMOTIONS)} "
        f"(aliases: {', '.join(sorted(_ALIASES))})"
    )


def emotion_codes(names):
    """Map emotion names or aliases to FER2013 codes (an int64 array)."""
    return np.array([EMOTIONS.index(emotion_from_name(n)) for n in names], dtype=np.int64)

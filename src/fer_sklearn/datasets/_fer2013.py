"""load_fer2013: the FER2013 challenge CSV and the variants people download."""

import numpy as np
import pandas as pd
from sklearn.utils import Bunch
from sklearn.utils._param_validation import validate_params

from ..utils._labels import EMOTIONS

_IMAGE_SIDE = 48
_N_PIXELS = _IMAGE_SIDE * _IMAGE_SIDE

DESCR = """FER2013 facial expression data set
==================================

48x48 grayscale faces labelled with one of seven emotions (codes 0-6: angry,
disgust, fear, happy, sad, surprise, neutral), from the ICML 2013 "Challenges
in Representation Learning" facial expression recognition challenge. The
original file has 35,887 faces split by ``Usage`` into Training (28,709),
PublicTest (3,589) and PrivateTest (3,589).
"""


def _find_columns(frame, path):
    """Map the canonical column names to the file's (which may carry spaces or capitals)."""
    by_key = {str(c).strip().lower(): c for c in frame.columns}
    if "pixels" not in by_key:
        raise ValueError(
            f"{path}: missing column 'pixels' on line 1 (the header); found columns "
            f"{[str(c).strip() for c in frame.columns]}"
        )
    return {key: by_key.get(key) for key in ("emotion", "pixels", "usage")}


def _parse_pixels(strings, lines, path):
    """Parse space-separated pixel strings into a uint8 ``(n, 48, 48)`` array.

    One vectorised parse of all rows; only when it fails are the rows checked
    one by one, to name the line and the problem.
    """
    if not strings:
        return np.empty((0, _IMAGE_SIDE, _IMAGE_SIDE), dtype=np.uint8)
    try:
        images = np.loadtxt(strings, dtype=np.uint8, comments=None, ndmin=2)
        if images.shape[1] == _N_PIXELS:
            return images.reshape(-1, _IMAGE_SIDE, _IMAGE_SIDE)
        error = f"rows of {images.shape[1]} pixels"
    except (ValueError, TypeError) as exc:  # a bad value, a ragged row or an empty field
        error = exc
    for text, line in zip(strings, lines):
        problem = _pixel_row_problem(text)
        if problem:
            raise ValueError(f"{path}, line {line}: {problem}")
    raise ValueError(f"{path}: the pixels could not be parsed: {error}")


def _pixel_row_problem(text):
    """What is wrong with one row's pixels field, or None."""
    if not isinstance(text, str) or not text.strip():
        return "the pixels field is empty"
    tokens = text.split()
    bad = next((t for t in tokens if not t.lstrip("-").isdigit()), None)
    if bad is not None:
        return f"pixel value {bad!r} is not an integer"
    if len(tokens) != _N_PIXELS:
        return f"expected {_N_PIXELS} pixels (48x48), found {len(tokens)}"
    value = next((int(t) for t in tokens if not 0 <= int(t) <= 255), None)
    if value is not None:
        return f"pixel value {value} is outside 0-255"
    return None


def _parse_labels(values, lines, path):
    codes = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(codes) | (codes != np.round(codes)) | (codes < 0) | (codes > 6)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{path}, line {lines[i]}: emotion label {values.iloc[i]!r} is not a code 0-6 "
            f"({', '.join(f'{c}={e}' for c, e in enumerate(EMOTIONS))})"
        )
    return codes.astype(np.int64)


def _usage_mask(usages, usage):
    """Boolean mask of the rows whose usage is ``usage`` (a name or a list of names)."""
    wanted = [usage] if isinstance(usage, str) else list(usage)
    present = list(dict.fromkeys(np.asarray(usages).tolist()))
    unknown = [u for u in wanted if u not in present]
    if unknown:
        raise ValueError(f"unknown usage {unknown[0]!r}; the file's usages are {present}")
    return np.isin(usages, wanted)


def select_usage(data, usage):
    """Keep the rows of a FER2013 Bunch that belong to the given split(s).

    For one loaded file split several ways without reading it again
    (``load_fer2013(path, usage=...)`` selects while reading).

    Parameters
    ----------
    data : Bunch
        As returned by :func:`load_fer2013`.
    usage : str or list of str
        The splits to keep, e.g. ``"Training"`` or ``["PublicTest", "PrivateTest"]``.

    Returns
    -------
    subset : Bunch
        ``data`` with ``data``, ``target`` (None stays None) and ``usage``
        cut to the selected rows.

    Raises
    ------
    ValueError
        For a usage the data does not have (the message lists those it has).

    Examples
    --------
    >>> from fer_sklearn.datasets import load_fer2013, select_usage
    >>> data = load_fer2013("fer2013.csv.gz")  # doctest: +SKIP
    >>> select_usage(data, "PublicTest").data.shape  # doctest: +SKIP
    (3589, 48, 48)
    """
    keep = _usage_mask(data.usage, usage)
    subset = Bunch(**data)
    for key in ("data", "target", "usage"):
        if subset.get(key) is not None:
            subset[key] = np.asarray(subset[key])[keep]
    return subset


@validate_params(
    {"path": "no_validation", "usage": [None, str, list, tuple], "return_X_y": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_fer2013(path, *, usage=None, return_X_y=False):
    """Load FER2013 from its challenge CSV file.

    Reads the original ``fer2013.csv`` (columns ``emotion, pixels, Usage``),
    gzip-compressed or plain, and the variants people download: Kaggle's
    ``icml_face_data.csv`` (``emotion, Usage, pixels`` with leading spaces in
    the column names) and the ``train.csv`` / ``test.csv`` pair (no ``Usage``;
    ``test.csv`` has no ``emotion`` column).

    Parameters
    ----------
    path : str or path-like
        The CSV file (``.csv`` or ``.csv.gz``).
    usage : str or list of str, default=None
        Keep only these splits (``"Training"``, ``"PublicTest"``,
        ``"PrivateTest"``); None keeps every row.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``data``: uint8 ``(n, 48, 48)`` images; ``target``: int64 emotion codes
        (``EMOTIONS[code]`` is the name), or **None for a file without labels**
        (Kaggle's ``test.csv``); ``target_names``: :data:`EMOTIONS`;
        ``usage``: the split of each row (``"Unknown"`` where the file has no
        ``Usage`` column); ``DESCR``: a description.
    (data, target) : tuple
        With ``return_X_y=True``; ``target`` is None for a file without labels.

    Raises
    ------
    ValueError
        With the file and line of a bad row (wrong pixel count, a label outside
        0-6, a pixel outside 0-255, a non-integer), a missing ``pixels`` column,
        or an unknown ``usage`` (listing the file's usages).

    Examples
    --------
    >>> from fer_sklearn import load_fer2013
    >>> X, y = load_fer2013("fer2013.csv.gz", usage="Training", return_X_y=True)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (28709, 48, 48)
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                            skipinitialspace=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"no FER2013 CSV at {path}") from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty: a FER2013 CSV has a header (emotion,pixels,Usage) "
                         "and one row per face") from None
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as exc:
        raise ValueError(f"{path} is not a readable CSV file: {exc}") from None
    columns = _find_columns(frame, path)
    lines = np.arange(len(frame)) + 2  # line 1 is the header
    if columns["usage"] is not None:
        usages = frame[columns["usage"]].fillna("").str.strip().to_numpy(dtype=object)
    else:
        usages = np.full(len(frame), "Unknown", dtype=object)
    if usage is not None:
        if columns["usage"] is None:
            raise ValueError(f"{path} has no Usage column, so usage={usage!r} cannot select rows")
        keep = _usage_mask(usages, usage)
        frame, usages, lines = frame[keep], usages[keep], lines[keep]
    data = _parse_pixels(frame[columns["pixels"]].tolist(), lines, path)
    target = None
    if columns["emotion"] is not None:
        target = _parse_labels(frame[columns["emotion"]], lines, path)
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, target_names=EMOTIONS,
                 usage=usages.astype(str), DESCR=DESCR)

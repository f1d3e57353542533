"""load_fer2013: the FER2013 challenge CSV and the variants people download."""

import bz2
import csv
import gzip
import io
import lzma
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils import EMOTIONS, validate_params

_IMAGE_SIDE = 48
_N_PIXELS = _IMAGE_SIDE * _IMAGE_SIDE
MAX_LINE_CHARS = 65_536
"""The longest CSV line read: a FER2013 row is under 10 KB, so a longer one is no FER2013 row
(a hostile file, e.g. a small gzip that expands to one huge line) and is refused unread."""
_BLOCK_ROWS = 4096

DESCR = """FER2013 facial expression data set
==================================

48x48 grayscale faces labelled with one of seven emotions (codes 0-6: angry,
disgust, fear, happy, sad, surprise, neutral), from the ICML 2013 "Challenges
in Representation Learning" facial expression recognition challenge. The
original file has 35,887 faces split by ``Usage`` into Training (28,709),
PublicTest (3,589) and PrivateTest (3,589).
"""


def _find_columns(frame, path):
    """Map the canonical column names to the file's (which may carry spaces or capitals).

    ``frame`` is a DataFrame or the list of the header's column names.
    """
    names = list(getattr(frame, "columns", frame))
    by_key = {str(c).strip().lower(): c for c in names}
    if "pixels" not in by_key:
        raise ValueError(
            f"{path}: missing column 'pixels' on line 1 (the header); found columns "
            f"{[str(c).strip() for c in names]}"
        )
    others = [str(c).strip() for c in names if str(c).strip().lower() not in
              ("emotion", "pixels", "usage")]
    if "emotion" not in by_key and others:
        # a file without labels has only pixels (and Usage): another column is a misnamed label
        raise ValueError(
            f"{path}: missing column 'emotion' (the labels, codes 0-6); found columns "
            f"{[str(c).strip() for c in names]}: rename the label column to 'emotion'"
        )
    return {key: by_key.get(key) for key in ("emotion", "pixels", "usage")}


def _open_text(path):
    """The CSV as text, decompressed as its suffix says (as pandas infers it)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".zip":
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            raise ValueError(f"{path}: a zip archive of one CSV file is read, found "
                             f"{len(members)} files")
        return io.TextIOWrapper(archive.open(members[0]), encoding="utf-8", newline="")
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(suffix)
    if opener is None:
        return open(path, encoding="utf-8", newline="")
    return opener(path, "rt", encoding="utf-8", newline="")


def iter_csv_blocks(path, block_rows=_BLOCK_ROWS):
    """Read a CSV as a stream: its header, then blocks of rows, each line bounded in length.

    Memory stays within one block whatever the file holds: a line longer than
    65,536 characters is refused before the rest of it is read.

    Parameters
    ----------
    path : str or path-like
        A CSV file, plain or compressed (``.gz``, ``.bz2``, ``.xz``, ``.zip``).
    block_rows : int, default=4096
        Rows per block.

    Yields
    ------
    header : list of str
        First, the column names of line 1.
    block : tuple of (ndarray of int, list of list of str)
        Then the line numbers and fields of up to ``block_rows`` rows.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        Naming the file (and line) for an empty, unreadable or over-long file
        or a row with another number of fields than the header.
    """
    try:
        with _open_text(path) as stream:
            header = None
            lines, rows = [], []
            reader = csv.reader(_bounded_lines(stream, path), skipinitialspace=True)
            for fields in reader:
                number = reader.line_num
                if header is None:
                    header = fields
                    yield header
                    continue
                if not fields:
                    continue  # a blank line, skipped as pandas does
                if len(fields) != len(header):
                    raise ValueError(f"{path}, line {number}: expected {len(header)} fields as in "
                                     f"the header, found {len(fields)}")
                lines.append(number)
                rows.append(fields)
                if len(rows) == block_rows:
                    yield np.array(lines), rows
                    lines, rows = [], []
            if header is None:
                raise ValueError(f"{path} is empty: a FER2013 CSV has a header "
                                 "(emotion,pixels,Usage) and one row per face")
            if rows:
                yield np.array(lines), rows
    except FileNotFoundError:
        raise FileNotFoundError(f"no FER2013 CSV at {path}") from None
    except ValueError as exc:
        if str(exc).startswith(str(path)):  # ours
            raise
        raise ValueError(f"{path} is not a readable CSV file: {exc}") from None
    except (UnicodeDecodeError, EOFError, OSError, zipfile.BadZipFile, csv.Error) as exc:
        raise ValueError(f"{path} is not a readable CSV file: {exc}") from None


def _bounded_lines(stream, path):
    number = 0
    while True:
        line = stream.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise ValueError(
                f"{path}, line {number}: longer than {MAX_LINE_CHARS:,} characters, refused "
                "unread (a FER2013 row is under 10 KB: this is no FER2013 file)")
        yield line


def _parse_pixels(strings, lines, path):
    """Parse space-separated pixel strings into a uint8 ``(n, 48, 48)`` array.

    One vectorised parse of all rows; only when it fails are the rows checked
    one by one, to name the line and the problem.
    """
    if not strings:
        return np.empty((0, _IMAGE_SIDE, _IMAGE_SIDE), dtype=np.uint8)
    try:
        images = np.loadtxt(strings, dtype=np.uint8, comments=None, ndmin=2)
        if images.shape == (len(strings), _N_PIXELS):  # loadtxt skips empty rows: count them
            return images.reshape(-1, _IMAGE_SIDE, _IMAGE_SIDE)
        error = f"{len(images)} rows of {images.shape[1]} pixels"
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


def _wanted(usage):
    return [usage] if isinstance(usage, str) else list(usage)


def _check_usages(usage, present):
    unknown = [u for u in _wanted(usage) if u not in present]
    if unknown:
        raise ValueError(f"unknown usage {unknown[0]!r}; the file's usages are {present}")


def _usage_mask(usages, usage):
    """Boolean mask of the rows whose usage is ``usage`` (a name or a list of names)."""
    _check_usages(usage, list(dict.fromkeys(np.asarray(usages).tolist())))
    return np.isin(usages, _wanted(usage))


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
    {"path": "no_validation", "usage": [None, str, list, tuple], "return_X_y": ["boolean"],
     "as_names": ["boolean"]},
)
def load_fer2013(path, *, usage=None, return_X_y=False, as_names=False):
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
    as_names : bool, default=False
        Return the targets as emotion names (``"happy"``), the labels the
        shipped models predict, instead of FER2013 codes (``3``).

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
        0-6, a pixel outside 0-255, a non-integer, a line over
        65,536 characters, read as a stream and refused unread),
        a missing ``pixels`` column, or an unknown ``usage`` (listing the
        file's usages).

    Examples
    --------
    >>> from fer_sklearn import load_fer2013
    >>> X, y = load_fer2013("fer2013.csv.gz", usage="Training", return_X_y=True)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (28709, 48, 48)
    >>> from fer_sklearn import load_pretrained
    >>> X, y = load_fer2013("fer2013.csv.gz", usage="PublicTest", return_X_y=True,
    ...                     as_names=True)  # doctest: +SKIP
    >>> accuracy_score(y, load_pretrained().predict(X))  # doctest: +SKIP
    """
    blocks = iter_csv_blocks(path)
    header = next(blocks)
    columns = _find_columns(header, path)
    if usage is not None and columns["usage"] is None:
        raise ValueError(f"{path} has no Usage column, so usage={usage!r} cannot select rows")
    index = {name: header.index(name) for name in columns.values() if name is not None}
    images, targets, usages, present = [], [], [], {}
    for lines, rows in blocks:
        split = (np.array([row[index[columns["usage"]]].strip() for row in rows], dtype=object)
                 if columns["usage"] is not None else np.full(len(rows), "Unknown", dtype=object))
        present.update(dict.fromkeys(split.tolist()))
        keep = np.ones(len(rows), bool) if usage is None else np.isin(split, _wanted(usage))
        rows = [row for row, kept in zip(rows, keep) if kept]
        images.append(_parse_pixels([row[index[columns["pixels"]]] for row in rows],
                                    lines[keep], path))
        if columns["emotion"] is not None:
            values = pd.Series([row[index[columns["emotion"]]] for row in rows], dtype=object)
            targets.append(_parse_labels(values, lines[keep], path))
        usages.append(split[keep])
    if usage is not None:
        _check_usages(usage, list(present))
    data = (np.concatenate(images) if images
            else np.empty((0, _IMAGE_SIDE, _IMAGE_SIDE), dtype=np.uint8))
    target = None
    if columns["emotion"] is not None:
        target = np.concatenate(targets) if targets else np.empty(0, dtype=np.int64)
        if as_names:
            target = np.array(EMOTIONS, dtype=object)[target]
    usages = np.concatenate(usages) if usages else np.empty(0, dtype=object)
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, target_names=EMOTIONS,
                 usage=usages.astype(str), DESCR=DESCR)

"""Flat rows of face results, one per face, and their CSV or JSON files."""

import csv
import json
import sys
from pathlib import Path

from ..utils import EMOTIONS
from ._recognizer import EmotionRecognizer

STATUSES = ("ok", "no_face", "error")
"""The ``status`` of an analysed file: faces found, none found, or not readable."""

ROW_FIELDS = ("file", "face", "x", "y", "w", "h", "score", "emotion", *EMOTIONS, "status",
              "error")
"""The keys of the rows of :func:`iter_face_rows`, in order (CSV columns)."""

_ROW_FORMATS = {".csv": "csv", ".json": "json"}


def face_rows(records):
    """Flatten the records of :meth:`EmotionRecognizer.analyze_many` into rows, one per face.

    Parameters
    ----------
    records : iterable of dict
        Records as streamed by :meth:`EmotionRecognizer.analyze_many`.

    Yields
    ------
    row : dict
        Keys :data:`ROW_FIELDS`: ``file``, ``face`` (0-based index in the photo),
        ``x, y, w, h``, ``score`` (the detection score: BlazeFace's
        probability that the box is a face; None for the Haar cascade, which
        has no comparable score, and without detection), ``emotion``, the
        seven emotion probabilities,
        ``status`` (``"ok"``, ``"no_face"``, ``"error"``) and ``error`` (the
        message, else None). A photo without a face, or unreadable, gives one
        row with ``face`` and the values None, so no file is lost.
    """
    for record in records:
        empty = dict.fromkeys(ROW_FIELDS)
        empty.update(file=record["file"], status=record["status"], error=record["error"])
        if not record["faces"]:
            yield empty
            continue
        for i, face in enumerate(record["faces"]):
            row = dict(empty)
            row.update(face=i, score=face.get("score"), emotion=face["emotion"])
            row.update(zip(("x", "y", "w", "h"), face["box"]))
            row.update({e: face["scores"].get(e, 0.0) for e in EMOTIONS})
            yield row


def iter_face_rows(images, recognizer, *, detect=True, batch_size=32):
    """Analyse photos and stream flat rows, one per face, for CSV or JSON.

    Parameters
    ----------
    images : iterable
        Paths (or PIL images or arrays).
    recognizer : EmotionRecognizer
        The recognizer to analyse them with.
    detect : bool, default=True
        Find faces first; ``False`` treats each image as one pre-cropped face.
    batch_size : int, default=32
        Photos per batch.

    Returns
    -------
    rows : generator of dict
        The rows of :func:`face_rows`.

    See Also
    --------
    write_face_rows : Write the rows to a CSV or JSON file.
    """
    if not isinstance(recognizer, EmotionRecognizer):
        raise TypeError(f"recognizer must be an EmotionRecognizer, got {type(recognizer).__name__}")
    return face_rows(recognizer.analyze_many(images, batch_size=batch_size, detect=detect))


def _printable(text):
    """``text`` that any UTF-8 file takes: bytes of a file name that are not UTF-8 as ``\\xNN``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _rounded(row):
    return {k: round(v, 6) if isinstance(v, float) else _printable(v) if isinstance(v, str) else v
            for k, v in row.items()}


def write_face_rows(rows, output=None):
    """Write rows of :func:`face_rows` to a CSV or JSON file as they come.

    Probabilities are rounded to 6 decimals; the values None are empty CSV
    cells and JSON ``null``.

    Parameters
    ----------
    rows : iterable of dict
        Rows with the keys :data:`ROW_FIELDS`, consumed lazily.
    output : str, path-like or None, default=None
        A ``.csv`` file, a ``.json`` file (a list of objects), or None for
        CSV on standard output.

    Returns
    -------
    n_rows : int
        The number of rows written.

    Raises
    ------
    ValueError
        If ``output`` ends in neither ``.csv`` nor ``.json``.
    """
    kind = "csv"
    if output is not None:
        kind = _ROW_FORMATS.get(Path(output).suffix.lower())
        if kind is None:
            raise ValueError(f"output must end in .csv or .json, got {output}")
    file = sys.stdout if output is None else open(output, "w", newline="", encoding="utf-8")
    count = 0
    try:
        if kind == "json":
            file.write("[")
            for count, row in enumerate(rows, 1):
                file.write(("," if count > 1 else "") + "\n  " + json.dumps(_rounded(row)))
            file.write("\n]\n")
        else:
            writer = csv.DictWriter(file, fieldnames=ROW_FIELDS)
            writer.writeheader()
            for count, row in enumerate(rows, 1):  # noqa: B007 (the count is returned)
                writer.writerow(_rounded(row))
    finally:
        if file is sys.stdout:
            file.flush()
        else:
            file.close()
    return count

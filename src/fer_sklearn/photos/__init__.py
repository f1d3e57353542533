"""Emotions of the faces of photos: :class:`EmotionRecognizer` and its rows.

:class:`EmotionRecognizer` finds the faces of photos (:func:`~fer_sklearn.faces.detect_faces`),
crops them as FER2013 frames faces and reports the box and emotion scores of each, with a
model given as an estimator, a model file or a shipped model's name;
:func:`iter_face_rows` / :func:`face_rows` flatten its results into rows that
:func:`write_face_rows` writes as CSV or JSON.
"""

from ._recognizer import EmotionRecognizer
from ._rows import ROW_FIELDS, STATUSES, face_rows, iter_face_rows, write_face_rows

__all__ = [
    "ROW_FIELDS",
    "STATUSES",
    "EmotionRecognizer",
    "face_rows",
    "iter_face_rows",
    "write_face_rows",
]

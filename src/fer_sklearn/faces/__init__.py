"""Real-world photos: face detection, face crops, and emotions for every face.

:func:`detect_faces` finds faces (OpenCV's Haar cascade),
:class:`FaceCropper` turns photos into face crops inside a scikit-learn
pipeline, :class:`EmotionRecognizer` reports the box and emotion scores of
each face, :func:`iter_face_rows` / :func:`face_rows` flatten its results into
rows that :func:`write_face_rows` writes as CSV or JSON, and :func:`annotate` /
:func:`save_annotated` draw them on the photos. Photos are read with
:func:`~fer_sklearn.io.read_image`, the reader of :mod:`fer_sklearn.datasets` too.
"""

from .._registry import register_class
from ..io import read_image
from ._annotate import annotate, save_annotated
from ._crop import FaceCropper, crop_face
from ._detect import detect_faces
from ._recognizer import EmotionRecognizer
from ._rows import ROW_FIELDS, STATUSES, face_rows, iter_face_rows, write_face_rows

register_class("fer_sklearn.FaceCropper", FaceCropper)  # model files may name it

__all__ = [
    "ROW_FIELDS",
    "STATUSES",
    "EmotionRecognizer",
    "FaceCropper",
    "annotate",
    "crop_face",
    "detect_faces",
    "face_rows",
    "iter_face_rows",
    "read_image",
    "save_annotated",
    "write_face_rows",
]

"""Real-world photos: face detection, face crops, and emotions for every face.

:func:`detect_faces` finds faces (OpenCV's Haar cascade),
:class:`FaceCropper` turns photos into face crops inside a scikit-learn
pipeline, :class:`EmotionRecognizer` reports the box and emotion scores of
each face, :func:`iter_face_rows` flattens its results into rows for CSV/JSON,
and :func:`annotate` draws them on the photo.
"""

from ._compose import compose_photo
from ._detect import FaceCropper, crop_face, detect_faces, read_image
from ._recognizer import ROW_FIELDS, STATUSES, EmotionRecognizer, annotate, iter_face_rows

__all__ = [
    "ROW_FIELDS",
    "STATUSES",
    "EmotionRecognizer",
    "FaceCropper",
    "annotate",
    "compose_photo",
    "crop_face",
    "detect_faces",
    "iter_face_rows",
    "read_image",
]

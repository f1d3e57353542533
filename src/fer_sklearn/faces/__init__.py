"""Faces in photos: detection, crops framed as FER2013 frames faces, annotated images.

:func:`detect_faces` finds faces (BlazeFace by default, OpenCV's Haar cascade as the
alternative), :class:`FaceCropper` turns photos into face crops inside a scikit-learn
pipeline, :func:`crop_face` cuts one, and :func:`annotate` / :func:`save_annotated` draw
results on the photos. Photos are read with :func:`fer_sklearn.io.read_image`. The emotions
of every face of a photo: :class:`fer_sklearn.photos.EmotionRecognizer`.
"""

# besides the public names: what EmotionRecognizer (fer_sklearn.photos) shares with
# detect_faces and FaceCropper
from ._annotate import annotate, save_annotated
from ._crop import FaceCropper, check_crop_params, crop_face
from ._detect import (
    DEFAULT_DETECTOR,
    DEFAULT_MIN_SCORE,
    check_detection,
    check_detector_params,
    detect_faces,
    find_faces,
    read_photo,
)
from ._saliency import add_saliency, check_explain

__all__ = [
    "FaceCropper",
    "annotate",
    "crop_face",
    "detect_faces",
    "save_annotated",
]

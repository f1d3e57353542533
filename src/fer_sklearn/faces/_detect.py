"""Face detection: OpenCV's Haar cascade over a photo shrunk for speed."""

import functools
import numbers
import os

import numpy as np
from sklearn.utils import check_scalar

from ..datasets._images import read_image

_CASCADE = "haarcascade_frontalface_default.xml"


def opencv():
    """The cv2 module, with the install command when it is missing."""
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError(
            "face detection needs OpenCV: pip install 'opencv-python-headless>=4.8,<5'"
        ) from exc
    return cv2


@functools.lru_cache(maxsize=1)
def _cascade():
    """The frontal-face Haar cascade shipped in OpenCV's wheel (loaded once)."""
    cv2 = opencv()
    if not hasattr(cv2, "CascadeClassifier"):
        raise ImportError(
            f"OpenCV {cv2.__version__} has no CascadeClassifier (OpenCV 5 moved the Haar "
            "cascades out of the main wheel); face detection needs "
            "pip install 'opencv-python-headless>=4.8,<5'"
        )
    path = os.path.join(getattr(getattr(cv2, "data", None), "haarcascades", ""), _CASCADE)
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise ImportError(f"could not load OpenCV's face cascade {path}")
    return cascade


def check_detection():
    """Raise the ImportError of :func:`_cascade` now if OpenCV cannot detect faces."""
    _cascade()


def check_detector_params(min_size, scale_factor, min_neighbors, max_side):
    """Check the parameters of :func:`detect_faces` (ValueError or TypeError)."""
    check_scalar(min_size, "min_size", numbers.Integral, min_val=1)
    check_scalar(scale_factor, "scale_factor", numbers.Real, min_val=1,
                 include_boundaries="neither")
    check_scalar(min_neighbors, "min_neighbors", numbers.Integral, min_val=0)
    if max_side is not None:
        check_scalar(max_side, "max_side", numbers.Integral, min_val=24)


def detect_faces(image, *, min_size=30, scale_factor=1.1, min_neighbors=5, max_side=320,
                 color="rgb"):
    """Find frontal faces in a photo with OpenCV's Haar cascade.

    The photo is converted to grayscale, shrunk so that its longer side is at
    most ``max_side`` pixels (detection cost grows with the pixel count)
    and scanned; the boxes are mapped back to the original
    pixel coordinates.

    Parameters
    ----------
    image : str, path-like, PIL.Image.Image or array-like
        The photo: a path, a PIL image, or a ``(h, w)`` / ``(h, w, 1|3|4)`` array.
    min_size : int, default=30
        Smallest face side to report, in pixels of the original photo.
    scale_factor : float, default=1.1
        Step between the scanned scales (> 1; larger is faster, may miss faces).
    min_neighbors : int, default=5
        Overlapping raw detections needed to keep a face (higher: fewer false
        positives, lower recall).
    max_side : int or None, default=320
        Longest side the photo is shrunk to before detection; ``None``
        detects at full resolution. The cascade's window is 24 pixels, so the
        smallest face found is about ``24 * longest_side / max_side`` pixels
        (48 on a 640x480 photo): raise ``max_side`` for small faces in large
        photos, at a cost growing with its square.
    color : {"rgb", "bgr"}, default="rgb"
        Channel order of colour arrays.

    Returns
    -------
    faces : list of dict
        One ``{"box": (x, y, w, h), "score": float}`` per face, largest first.
        ``box`` is in pixels of ``image``; ``score`` is the cascade's final-stage
        level weight (higher is more face-like; it is not a probability).

    Raises
    ------
    ValueError
        For an unreadable file, a malformed array or a parameter out of range.
    TypeError
        For something that is not an image, or a parameter of the wrong type.
    ImportError
        If the installed OpenCV has no Haar cascade (OpenCV 5).

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn import detect_faces
    >>> detect_faces(np.zeros((120, 160), dtype=np.uint8))
    []
    """
    check_detector_params(min_size, scale_factor, min_neighbors, max_side)
    gray = read_image(image, color=color)
    return detect_gray(gray, min_size, scale_factor, min_neighbors, max_side)


def detect_gray(gray, min_size, scale_factor, min_neighbors, max_side):
    """:func:`detect_faces` on a grayscale photo whose parameters are checked."""
    cv2 = opencv()
    height, width = gray.shape
    scale = 1.0
    if max_side is not None and max(height, width) > max_side:
        scale = max_side / max(height, width)
        small = cv2.resize(gray, (max(1, round(width * scale)), max(1, round(height * scale))),
                           interpolation=cv2.INTER_AREA)
    else:
        small = gray
    # no histogram equalisation: the cascade normalises each window's variance, and a
    # global equalisation costs recall on dark faces in bright scenes
    side = max(1, int(round(min_size * scale)))
    if min(small.shape) < side:
        return []
    rects, _, weights = _cascade().detectMultiScale3(
        small, scaleFactor=float(scale_factor), minNeighbors=int(min_neighbors),
        minSize=(side, side), outputRejectLevels=True,
    )
    faces = []
    for (x, y, w, h), weight in zip(np.reshape(rects, (-1, 4)), np.ravel(weights)):
        x0, y0 = int(round(x / scale)), int(round(y / scale))
        x1, y1 = min(width, int(round((x + w) / scale))), min(height, int(round((y + h) / scale)))
        faces.append({"box": (x0, y0, x1 - x0, y1 - y0), "score": float(weight)})
    faces.sort(key=lambda f: f["box"][2] * f["box"][3], reverse=True)
    return faces

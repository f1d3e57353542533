"""Face detection: BlazeFace (a small CNN) or OpenCV's Haar cascade, on a photo shrunk for speed."""

import functools
import numbers
import os

import numpy as np
from PIL import Image
from sklearn.utils import check_scalar

from ..datasets._images import check_color, image_array, open_image, read_image
from ._blazeface import detect_blazeface
from ._opencv import InstancePool, opencv

_CASCADE = "haarcascade_frontalface_default.xml"
DETECTORS = ("blazeface", "haar")
DEFAULT_DETECTOR = "blazeface"
HAAR_MIN_SIZE = 30


def _load_cascade():
    """The frontal-face Haar cascade shipped in OpenCV's wheel."""
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


# one cascade per thread running at once (a cascade is not safe to share between threads)
_CASCADES = InstancePool(_load_cascade)


@functools.lru_cache(maxsize=1)
def _cascade():
    """The cascade loaded once, to check that it loads (ImportError with the fix otherwise)."""
    return _load_cascade()


def check_detection(detector="haar"):
    """Raise an ImportError now if OpenCV cannot run ``detector``."""
    if detector == "haar":
        _cascade()
    else:
        opencv()


def check_detector_params(min_size, scale_factor, min_neighbors, max_side, detector="haar"):
    """Check the parameters of :func:`detect_faces` (ValueError or TypeError)."""
    if not isinstance(detector, str) or detector not in DETECTORS:
        raise ValueError(f"detector must be one of {DETECTORS}, got {detector!r}")
    if min_size is not None:
        check_scalar(min_size, "min_size", numbers.Integral, min_val=1)
    check_scalar(scale_factor, "scale_factor", numbers.Real, min_val=1,
                 include_boundaries="neither")
    check_scalar(min_neighbors, "min_neighbors", numbers.Integral, min_val=0)
    if max_side is not None:
        check_scalar(max_side, "max_side", numbers.Integral, min_val=24)


def detect_faces(image, *, detector=DEFAULT_DETECTOR, min_size=None, scale_factor=1.1,
                 min_neighbors=5, max_side=320, color="rgb"):
    """Find the faces of a photo, with BlazeFace or OpenCV's Haar cascade.

    The photo is shrunk so that its longer side is at most ``max_side`` pixels
    (detection cost grows with the pixel count) and searched; the boxes are
    mapped back to the original pixel coordinates. Each box is the square a
    FER2013 face would fill (looser than a tight face box, centred a little
    above the eyes' midpoint), so a crop of it is framed like the faces the
    emotion models were trained on.

    Parameters
    ----------
    image : str, path-like, PIL.Image.Image or array-like
        The photo: a path, a PIL image, or a ``(h, w)`` / ``(h, w, 1|3|4)`` array.
    detector : {"blazeface", "haar"}, default="blazeface"
        ``"blazeface"``: MediaPipe's BlazeFace short-range CNN (Apache-2.0,
        shipped as ONNX and run by OpenCV's DNN module); it finds faces turned
        three-quarters away, gives six keypoints (eyes, nose tip, mouth, ears)
        and a probability. ``"haar"``: OpenCV's frontal-face Haar cascade.
    min_size : int or None, default=None
        Smallest face side to report, in pixels of the original photo. None:
        30 for ``"haar"``; for ``"blazeface"``, faces down to about a fifth of
        the photo's shorter side (square windows of that side are searched).
        A smaller ``min_size`` makes BlazeFace search smaller windows too
        (slower: about four times the windows each time their side halves).
    scale_factor : float, default=1.1
        Haar only: step between the scanned scales (> 1; larger is faster,
        may miss faces).
    min_neighbors : int, default=5
        Haar only: overlapping raw detections needed to keep a face (higher:
        fewer false positives, lower recall).
    max_side : int or None, default=320
        Longest side the photo is shrunk to before detection; ``None``
        detects at full resolution. It bounds the smallest face found: the
        cascade's window is 24 pixels and BlazeFace's windows are at least
        128 pixels (faces of 26), so about ``24 * longest_side / max_side``
        (48 on a 640x480 photo); raise it for small faces in large photos.
    color : {"rgb", "bgr"}, default="rgb"
        Channel order of colour arrays.

    Returns
    -------
    faces : list of dict
        One ``{"box": (x, y, w, h), "score": float}`` per face, largest first,
        in pixels of ``image``. BlazeFace's boxes are square and may reach past
        the photo's edges for a face at a border; its ``score`` is a
        probability, and ``"keypoints"`` maps ``right_eye``, ``left_eye``,
        ``nose_tip``, ``mouth``, ``right_ear``, ``left_ear`` (the person's
        right and left) to ``(x, y)``. The cascade's ``score`` is its
        final-stage level weight (higher is more face-like; not a probability).

    Raises
    ------
    ValueError
        For an unreadable file, a malformed array or a parameter out of range.
    TypeError
        For something that is not an image, or a parameter of the wrong type.
    ImportError
        If the installed OpenCV has no Haar cascade (OpenCV 5), for ``"haar"``.

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn import detect_faces
    >>> detect_faces(np.zeros((120, 160), dtype=np.uint8))
    []
    >>> detect_faces(np.zeros((120, 160), dtype=np.uint8), detector="haar")
    []
    """
    check_detector_params(min_size, scale_factor, min_neighbors, max_side, detector)
    _, pixels = read_photo(image, detector, color=color)
    return find_faces(pixels, detector, min_size, scale_factor, min_neighbors, max_side)


def read_photo(image, detector, *, color="rgb", what="image"):
    """A photo as ``(gray, pixels)``: grayscale for crops, and what ``detector`` reads.

    ``pixels`` is ``gray`` for the cascade, and the RGB photo for BlazeFace;
    ``gray`` is then its luma, as :func:`~fer_sklearn.datasets.read_image` gives.
    """
    if detector == "haar":
        gray = read_image(image, color=color, what=what)
        return gray, gray
    check_color(color)
    if isinstance(image, (str, os.PathLike)):
        rgb = np.asarray(open_image(image, "RGB"), dtype=np.uint8)
    elif isinstance(image, Image.Image):
        rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    else:
        array = image_array(image, what=what)
        if array.ndim == 2:
            return np.ascontiguousarray(array), np.repeat(array[..., None], 3, axis=2)
        rgb = np.ascontiguousarray(array[..., 2::-1] if color == "bgr" else array[..., :3])
    return np.asarray(Image.fromarray(rgb).convert("L")), rgb


def find_faces(pixels, detector, min_size, scale_factor, min_neighbors, max_side):
    """:func:`detect_faces` on the ``pixels`` of :func:`read_photo`, parameters checked."""
    if detector == "haar":
        return detect_gray(pixels, HAAR_MIN_SIZE if min_size is None else min_size,
                           scale_factor, min_neighbors, max_side)
    cv2 = opencv()
    height, width = pixels.shape[:2]
    scale = 1.0
    if max_side is not None and max(height, width) > max_side:
        scale = max_side / max(height, width)
        pixels = cv2.resize(pixels, (max(1, round(width * scale)), max(1, round(height * scale))),
                            interpolation=cv2.INTER_AREA)
    faces = detect_blazeface(pixels, None if min_size is None else min_size * scale)
    for face in faces:
        face["box"] = tuple(int(round(v / scale)) for v in face["box"])
        face["keypoints"] = {k: (x / scale, y / scale) for k, (x, y) in face["keypoints"].items()}
    faces.sort(key=lambda f: f["box"][2] * f["box"][3], reverse=True)
    return faces


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
    _cascade()  # OpenCV can load it (checked once)
    with _CASCADES.borrowed() as cascade:  # a copy of its own for this thread
        rects, _, weights = cascade.detectMultiScale3(
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

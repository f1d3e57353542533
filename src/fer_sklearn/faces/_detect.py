"""Face detection: BlazeFace (a small CNN) or OpenCV's Haar cascade, on a photo shrunk for speed."""

import functools
import numbers
import os
from typing import NamedTuple

import numpy as np
from PIL import Image
from sklearn.utils import check_scalar

from ..io import check_color, image_array, open_reduced, read_image
from ._blazeface import FULL_RANGE, INPUT_SIZE, SMALLEST, network
from ._opencv import InstancePool, opencv
from ._passes import detect_blazeface

_CASCADE = "haarcascade_frontalface_default.xml"
DETECTORS = ("blazeface", "haar")
DEFAULT_DETECTOR = "blazeface"
HAAR_MIN_SIZE = 30
HAAR_WINDOW = 24  # the cascade's smallest window, in pixels of the photo it searches
DEFAULT_MIN_SCORE = 0.4
"""BlazeFace's default smallest detection score of a face kept (chosen on real photos:
``benchmarks/bench_real_photos.py``)."""


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
    """Raise an ImportError now if ``detector`` cannot run (OpenCV, onnxruntime)."""
    opencv()
    if detector == "haar":
        _cascade()
    else:
        network()
        network(FULL_RANGE)


def check_detector_params(min_size, scale_factor, min_neighbors, max_side, detector="haar",
                          min_score=DEFAULT_MIN_SCORE):
    """Check the parameters of :func:`detect_faces` (ValueError or TypeError)."""
    if not isinstance(detector, str) or detector not in DETECTORS:
        raise ValueError(f"detector must be one of {DETECTORS}, got {detector!r}")
    check_scalar(min_score, "min_score", numbers.Real, min_val=0, max_val=1,
                 include_boundaries="neither")
    if min_size is not None:
        check_scalar(min_size, "min_size", numbers.Integral, min_val=1)
    check_scalar(scale_factor, "scale_factor", numbers.Real, min_val=1,
                 include_boundaries="neither")
    check_scalar(min_neighbors, "min_neighbors", numbers.Integral, min_val=0)
    if max_side is not None:
        check_scalar(max_side, "max_side", numbers.Integral, min_val=24)


def detect_faces(image, *, detector=DEFAULT_DETECTOR, min_size=None, scale_factor=1.1,
                 min_neighbors=5, max_side=320, color="rgb", min_score=DEFAULT_MIN_SCORE):
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
        ``"blazeface"``: MediaPipe's BlazeFace CNNs (Apache-2.0, shipped as
        ONNX and run by onnxruntime); it finds faces turned three-quarters
        away and faces cut by the frame, gives six keypoints (eyes, nose tip,
        mouth, ears) and a probability. The short-range network searches the
        photo, then the photo mirrored past its edges (a face cut by the frame
        is completed by its mirror image); when these found no face or
        several, the full-range network searches it too (smaller and more
        turned faces, as in crowds). ``"haar"``: OpenCV's frontal-face Haar
        cascade.
    min_size : int or None, default=None
        Smallest face side to report, in pixels of the original photo. None:
        30 for ``"haar"``; for ``"blazeface"``, faces down to about a fifth of
        the photo's shorter side (one pass of the short-range network over the
        photo, scaled so that this side is its 128 pixels), and smaller ones
        the full-range pass finds when it runs. A smaller ``min_size`` adds a
        pass at each halving of that side (slower: each pass has about four
        times the pixels of the one before).
    scale_factor : float, default=1.1
        Haar only: step between the scanned scales (> 1; larger is faster,
        may miss faces).
    min_neighbors : int, default=5
        Haar only: overlapping raw detections needed to keep a face (higher:
        fewer false positives, lower recall).
    max_side : int or None, default=320
        Longest side the photo is shrunk to before detection; ``None``
        detects at full resolution. It bounds the smallest face found: the
        cascade's window is 24 pixels and BlazeFace's passes see squares of
        at least 128 pixels (faces of 26), so about ``24 * longest_side /
        max_side`` (48 on a 640x480 photo); raise it for small faces in large
        photos. A JPEG file is decoded at the reduced scale (1/2, 1/4 or 1/8,
        several times faster) that still gives detection these pixels and the
        smallest face it can report 48 across (the crops' side).
    color : {"rgb", "bgr"}, default="rgb"
        Channel order of colour arrays.
    min_score : float, default=0.4
        BlazeFace only: smallest detection score (probability, in (0, 1))
        of a face kept. A face scoring 0.66 or less (0.9 or less in a search
        of several passes, see ``min_size``) is kept only if a second look
        (the face-presence output of MediaPipe's face mesh model, on the face
        turned upright) also calls it a face: this drops the cats,
        motorbikes and colour wheels BlazeFace alone scores 0.5-0.66, and
        lets a lower threshold keep small or turned faces. Higher drops more
        real faces too; the photo guide gives both rates on real photos
        (``benchmarks/bench_real_photos.py``). A face's score is that of the
        network that found it: when ``min_score`` leaves the short-range
        network no face, the full-range one looks, and may report a face with
        its own, higher score. The Haar cascade has no comparable score.

    Returns
    -------
    faces : list of dict
        One ``{"box": (x, y, w, h), "score": float}`` per face, largest first,
        in pixels of ``image``. BlazeFace's boxes are square and reach past
        the photo's edges for a face the frame cuts (its crops are filled
        there, see :func:`~fer_sklearn.faces.crop_face`); its ``score`` is a
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
    check_detector_params(min_size, scale_factor, min_neighbors, max_side, detector, min_score)
    photo = read_photo(image, detector, color=color, min_size=min_size, max_side=max_side)
    return find_faces(photo, detector, min_size, scale_factor, min_neighbors, max_side,
                      min_score)


class Photo(NamedTuple):
    """A photo read for detection: grayscale for crops, and what the detector reads."""

    gray: np.ndarray
    """uint8 ``(h, w)``, the luma that :func:`~fer_sklearn.io.read_image` gives."""
    pixels: np.ndarray
    """``gray`` for the cascade, the RGB photo ``(h, w, 3)`` for BlazeFace."""
    scale: float = 1.0
    """Pixels of ``gray`` and ``pixels`` per pixel of the file (below 1 for a reduced JPEG)."""

    def in_gray(self, box):
        """A box ``(x, y, w, h)`` given in the file's pixels, in those of ``gray``."""
        return tuple(v * self.scale for v in box)


def least_scale(width, height, detector, min_size, max_side, crop_size):
    """The smallest scale a ``width`` x ``height`` photo can be decoded at and lose nothing.

    Detection never sees more than ``max_side`` pixels on the longest side,
    and the smallest face the detector can report (``min_size``, and at least
    a fifth of the square a BlazeFace pass sees as 128 pixels, or the
    cascade's 24-pixel window at the detection scale) must stay ``crop_size``
    pixels across, so
    that no crop is cut from fewer pixels than a full decode would give it
    (up to ``crop_size``). 1.0 when ``max_side`` is None.
    """
    if max_side is None:
        return 1.0
    detection = min(1.0, max_side / max(width, height))
    if detector == "haar":
        smallest = max(HAAR_MIN_SIZE if min_size is None else min_size, HAAR_WINDOW / detection)
    elif min_size is None:  # one pass, the shorter side scaled to the network's 128 pixels
        smallest = SMALLEST * min(width, height)
    else:
        smallest = max(min_size, SMALLEST * INPUT_SIZE / detection)
    return min(1.0, max(detection, crop_size / smallest))


def read_photo(image, detector, *, color="rgb", what="image", min_size=None, max_side=None,
               crop_size=48):
    """A photo as a :class:`Photo` for ``detector``.

    With ``max_side``, a JPEG file is decoded at the reduced scale that
    detection with these parameters and crops of ``crop_size`` allow
    (:func:`least_scale`, :func:`~fer_sklearn.io.open_reduced`);
    without it, whole. Arrays and PIL images are used as they are.
    """
    check_color(color)
    if isinstance(image, (str, os.PathLike)):
        reduce = functools.partial(least_scale, detector=detector, min_size=min_size,
                                   max_side=max_side, crop_size=crop_size)
        pil, scale = open_reduced(image, "L" if detector == "haar" else "RGB", reduce)
        pixels = np.asarray(pil, dtype=np.uint8)
        if detector == "haar":
            return Photo(pixels, pixels, scale)
        return Photo(np.asarray(pil.convert("L")), pixels, scale)
    if detector == "haar":
        gray = read_image(image, color=color, what=what)
        return Photo(gray, gray)
    if isinstance(image, Image.Image):
        rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    else:
        array = image_array(image, what=what)
        if array.ndim == 2:
            return Photo(np.ascontiguousarray(array), np.repeat(array[..., None], 3, axis=2))
        rgb = np.ascontiguousarray(array[..., 2::-1] if color == "bgr" else array[..., :3])
    return Photo(np.asarray(Image.fromarray(rgb).convert("L")), rgb)


def find_faces(photo, detector, min_size, scale_factor, min_neighbors, max_side,
               min_score=DEFAULT_MIN_SCORE):
    """:func:`detect_faces` on a :class:`Photo`, parameters checked; boxes in the file's pixels."""
    if detector == "haar":
        return detect_gray(photo.pixels, HAAR_MIN_SIZE if min_size is None else min_size,
                           scale_factor, min_neighbors, max_side, photo.scale)
    pixels, to_file = _shrunk(photo.pixels, max_side, photo.scale)
    faces = detect_blazeface(pixels, None if min_size is None else min_size / to_file,
                             threshold=min_score)
    for face in faces:
        face["box"] = tuple(int(round(v * to_file)) for v in face["box"])
        face["keypoints"] = {k: (x * to_file, y * to_file)
                             for k, (x, y) in face["keypoints"].items()}
    faces.sort(key=lambda f: f["box"][2] * f["box"][3], reverse=True)
    return faces


def _shrunk(pixels, max_side, photo_scale):
    """``pixels`` shrunk to ``max_side`` on their longest side, and file pixels per pixel."""
    height, width = pixels.shape[:2]
    if max_side is None or max(height, width) <= max_side:
        return pixels, 1 / photo_scale
    cv2 = opencv()
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), 1 / (scale * photo_scale)


def detect_gray(gray, min_size, scale_factor, min_neighbors, max_side, photo_scale=1.0):
    """:func:`detect_faces` with the cascade on a grayscale photo whose parameters are checked.

    ``gray`` has ``photo_scale`` pixels per pixel of the file; ``min_size`` and
    the boxes are in the file's pixels.
    """
    small, to_file = _shrunk(gray, max_side, photo_scale)
    # no histogram equalisation: the cascade normalises each window's variance, and a
    # global equalisation costs recall on dark faces in bright scenes
    side = max(1, int(round(min_size / to_file)))
    if min(small.shape) < side:
        return []
    _cascade()  # OpenCV can load it (checked once)
    with _CASCADES.borrowed() as cascade:  # a copy of its own for this thread
        rects, _, weights = cascade.detectMultiScale3(
            small, scaleFactor=float(scale_factor), minNeighbors=int(min_neighbors),
            minSize=(side, side), outputRejectLevels=True,
        )
    height, width = (round(v / photo_scale) for v in gray.shape)
    faces = []
    for (x, y, w, h), weight in zip(np.reshape(rects, (-1, 4)), np.ravel(weights)):
        x0, y0 = int(round(x * to_file)), int(round(y * to_file))
        x1, y1 = (min(width, int(round((x + w) * to_file))),
                  min(height, int(round((y + h) * to_file))))
        faces.append({"box": (x0, y0, x1 - x0, y1 - y0), "score": float(weight)})
    faces.sort(key=lambda f: f["box"][2] * f["box"][3], reverse=True)
    return faces

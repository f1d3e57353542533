"""Face detection (OpenCV Haar cascade) and FaceCropper, photos -> face crops."""

import functools
import numbers
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from sklearn.base import BaseEstimator, TransformerMixin

_CASCADE = "haarcascade_frontalface_default.xml"
_COLORS = ("rgb", "bgr")
_ON_MISSING = ("center", "error")


def _cv2():
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
    cv2 = _cv2()
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


def _float_to_uint8(array):
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise ValueError("image contains NaN or infinite pixels")
        if array.size and array.max() <= 1.0:  # [0, 1] floats
            array = array * 255.0
    return np.clip(array, 0, 255).astype(np.uint8) if array.dtype != np.uint8 else array


def read_image(image, *, color="rgb", what="image"):
    """Return ``image`` as a uint8 grayscale ``(h, w)`` array.

    Parameters
    ----------
    image : str, path-like, PIL.Image.Image or array-like
        A file path (its EXIF orientation is applied), a PIL image, or an
        array: ``(h, w)`` gray or ``(h, w, 1|3|4)`` channels last. Float arrays
        with values in [0, 1] are scaled to 0-255.
    color : {"rgb", "bgr"}, default="rgb"
        Channel order of 3- and 4-channel arrays (OpenCV's ``imread`` gives BGR).
    what : str, default="image"
        Name used in error messages.

    Returns
    -------
    gray : ndarray of uint8, shape (h, w)

    Raises
    ------
    ValueError
        If a file is missing or not an image, or the array has a wrong shape.
    TypeError
        If ``image`` is none of the accepted kinds.
    """
    if color not in _COLORS:
        raise ValueError(f"color must be one of {_COLORS}, got {color!r}")
    if isinstance(image, (str, os.PathLike)):
        try:
            with Image.open(image) as pil:
                # phones store photos sideways with an EXIF orientation tag: apply it
                return np.asarray(ImageOps.exif_transpose(pil).convert("L"), dtype=np.uint8)
        except FileNotFoundError:
            raise ValueError(f"{image}: no such file") from None
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise ValueError(f"{image}: not a readable image ({exc})") from None
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("L"), dtype=np.uint8)
    if isinstance(image, bytes) or image is None or isinstance(image, (numbers.Number, dict)):
        raise TypeError(
            f"{what} must be a path, a PIL image or an array, got {type(image).__name__}"
        )
    array = np.asarray(image)
    if array.dtype == object or array.dtype.kind not in "uifb":
        raise TypeError(f"{what} must hold numeric pixels, got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(
            f"{what} must be (height, width) gray or (height, width, 1|3|4) channels last; "
            f"got shape {array.shape}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{what} is empty (shape {array.shape})")
    if array.dtype.kind == "b":
        array = array.astype(np.uint8) * 255
    array = _float_to_uint8(array)
    if array.ndim == 3:  # PIL's luma, so that arrays, PIL images and files agree exactly
        rgb = array[..., 2::-1] if color == "bgr" else array[..., :3]
        array = np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).convert("L"))
    return np.ascontiguousarray(array)


def _check_detector_params(min_size, scale_factor, min_neighbors, max_side):
    if isinstance(min_size, bool) or not isinstance(min_size, numbers.Integral) or min_size < 1:
        raise ValueError(f"min_size must be a positive integer (pixels), got {min_size!r}")
    if not isinstance(scale_factor, numbers.Real) or not scale_factor > 1:
        raise ValueError(f"scale_factor must be a number > 1, got {scale_factor!r}")
    if (isinstance(min_neighbors, bool) or not isinstance(min_neighbors, numbers.Integral)
            or min_neighbors < 0):
        raise ValueError(f"min_neighbors must be an integer >= 0, got {min_neighbors!r}")
    if max_side is not None and (
        isinstance(max_side, bool) or not isinstance(max_side, numbers.Integral) or max_side < 24
    ):
        raise ValueError(f"max_side must be None or an integer >= 24, got {max_side!r}")


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
        For an unreadable file, a malformed array or invalid parameters.
    ImportError
        If the installed OpenCV has no Haar cascade (OpenCV 5).

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn import detect_faces
    >>> detect_faces(np.zeros((120, 160), dtype=np.uint8))
    []
    """
    _check_detector_params(min_size, scale_factor, min_neighbors, max_side)
    gray = read_image(image, color=color)
    return _detect_gray(gray, min_size, scale_factor, min_neighbors, max_side)


def _detect_gray(gray, min_size, scale_factor, min_neighbors, max_side):
    cv2 = _cv2()
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


def crop_face(gray, box, *, margin=0.0, size=48):
    """Cut a square face crop around ``box``, padding past the borders by replication.

    Parameters
    ----------
    gray : ndarray of uint8, shape (h, w)
        The photo in grayscale.
    box : tuple of int
        ``(x, y, w, h)`` of the face.
    margin : float, default=0.0
        Extra border on each side, as a fraction of the box's longer side.
    size : int, default=48
        Side of the returned crop.

    Returns
    -------
    crop : ndarray of uint8, shape (size, size)
    """
    cv2 = _cv2()
    x, y, w, h = box
    side = max(w, h) * (1 + 2 * margin)
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    x1, y1 = x0 + max(1, int(round(side))), y0 + max(1, int(round(side)))
    height, width = gray.shape
    pad = max(0, -x0, -y0, x1 - width, y1 - height)
    if pad:
        gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    patch = gray[y0:y1, x0:x1]
    shrink = patch.shape[0] > size
    return cv2.resize(patch, (size, size),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def center_box(shape):
    """The largest centred square ``(x, y, w, h)`` of an image of ``shape``."""
    height, width = shape[:2]
    side = min(height, width)
    return ((width - side) // 2, (height - side) // 2, side, side)


def _as_image_list(X):
    """Split what a transformer got into a list of single images."""
    if isinstance(X, (str, os.PathLike, Image.Image)):
        raise TypeError(
            f"X must be a list of images (paths, PIL images or arrays), got a single "
            f"{type(X).__name__}; wrap it in a list"
        )
    if X is None or isinstance(X, (bytes, numbers.Number, dict)):
        raise TypeError(f"X must be a list of images, got {type(X).__name__}")
    if isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype.kind in "OUS":
        images = X.tolist()  # an array of paths or of images of different sizes
    elif isinstance(X, np.ndarray):
        if X.ndim not in (3, 4):
            raise ValueError(
                f"X as an array must be a stack of images (n, h, w) or (n, h, w, c); "
                f"got shape {X.shape}"
            )
        images = list(X)
    else:
        images = list(X)
    if not images:
        raise ValueError("X holds 0 images; at least one is required")
    return images


class FaceCropper(TransformerMixin, BaseEstimator):
    """Turn photos into square grayscale crops of their largest face.

    Each photo (a path, a PIL image or an array of any size, colour or gray) is
    searched with :func:`detect_faces`; the largest face is cut out with a
    ``margin`` around it, squared, and resized to ``size`` x ``size``. Put it
    in front of an emotion pipeline to classify photos::

        Pipeline([("faces", FaceCropper()), ("model", fitted_emotion_pipeline)])

    Parameters
    ----------
    size : int, default=48
        Side of the output crops (FER2013 faces are 48x48).
    margin : float, default=0.0
        Border added on each side of the detected box, as a fraction of its side.
        The cascade frames a face much as FER2013 does: on FER2013 faces pasted
        into photos the detected side is 0.96 of the face image's side, and a
        partly trained FER2013 model gave the same emotion on the crop as on
        the original face for 79% of 430 faces with no margin, 72% at 0.1 and
        53% at 0.2 (there, what lies beyond the face is a synthetic background).
    on_missing : {"center", "error"}, default="center"
        What to do with a photo in which no face is found. ``"center"`` (the
        default) crops the largest centred square, which is right for photos
        that already are face crops (the detector often misses a face that
        fills the whole frame); ``"error"`` raises a ValueError naming the
        photo. A transformer must return one row per input, so it cannot skip
        photos: to drop or report them, use
        :class:`~fer_sklearn.faces.EmotionRecognizer` (its ``analyze_many``
        reports ``status="no_face"``).
    min_size : int, default=30
        Smallest face side in pixels; see :func:`detect_faces`.
    scale_factor : float, default=1.1
        Scale step of the detector.
    min_neighbors : int, default=5
        Detections needed to keep a face.
    max_side : int or None, default=320
        Longest side photos are shrunk to for detection (crops are cut from
        the full-resolution photo).
    color : {"rgb", "bgr"}, default="rgb"
        Channel order of colour arrays.

    See Also
    --------
    detect_faces : All faces of a photo with their boxes.
    EmotionRecognizer : Emotions of every face of a photo.

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn import FaceCropper
    >>> photos = [np.zeros((60, 80, 3), dtype=np.uint8), np.zeros((100, 50), dtype=np.uint8)]
    >>> FaceCropper(size=32).fit_transform(photos).shape
    (2, 32, 32)
    """

    def __init__(self, size=48, margin=0.0, on_missing="center", min_size=30,
                 scale_factor=1.1, min_neighbors=5, max_side=320, color="rgb"):
        self.size = size
        self.margin = margin
        self.on_missing = on_missing
        self.min_size = min_size
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.max_side = max_side
        self.color = color

    def _check_params(self):
        if isinstance(self.size, bool) or not isinstance(self.size, numbers.Integral) or self.size < 1:
            raise ValueError(f"size must be a positive integer, got {self.size!r}")
        if not isinstance(self.margin, numbers.Real) or not 0 <= self.margin <= 2:
            raise ValueError(f"margin must be a number in [0, 2], got {self.margin!r}")
        if self.on_missing not in _ON_MISSING:
            raise ValueError(f"on_missing must be one of {_ON_MISSING}, got {self.on_missing!r}")
        if self.color not in _COLORS:
            raise ValueError(f"color must be one of {_COLORS}, got {self.color!r}")
        _check_detector_params(self.min_size, self.scale_factor, self.min_neighbors, self.max_side)

    def fit(self, X=None, y=None):
        """Check the parameters; nothing is learned.

        Parameters
        ----------
        X : list of images, default=None
            Ignored.
        y : None
            Ignored.

        Returns
        -------
        self : FaceCropper
            The transformer.
        """
        self._check_params()
        return self

    def detect(self, X):
        """Return the chosen box of each photo, ``None`` where no face was found.

        Parameters
        ----------
        X : list of images
            Paths, PIL images or arrays, of any sizes.

        Returns
        -------
        boxes : list of tuple or None
            ``(x, y, w, h)`` of the largest face of each photo.
        """
        self._check_params()
        return [box for _, box in self._gray_and_boxes(X)]

    def _gray_and_boxes(self, X):
        for i, image in enumerate(_as_image_list(X)):
            gray = read_image(image, color=self.color, what=f"X[{i}]")
            faces = _detect_gray(gray, self.min_size, self.scale_factor, self.min_neighbors,
                                 self.max_side)
            yield gray, (faces[0]["box"] if faces else None)

    def transform(self, X):
        """Crop the largest face of each photo.

        Parameters
        ----------
        X : list of images or ndarray
            Paths, PIL images or arrays, of any sizes; or a stack of same-size
            images ``(n, h, w)`` / ``(n, h, w, c)``.

        Returns
        -------
        crops : ndarray of uint8, shape (n_photos, size, size)
            Grayscale face crops, one per photo.

        Raises
        ------
        ValueError
            For an unreadable photo, or a photo without a face when
            ``on_missing="error"``.
        """
        self._check_params()
        crops = []
        for i, (gray, box) in enumerate(self._gray_and_boxes(X)):
            if box is None:
                if self.on_missing == "error":
                    raise ValueError(
                        f"no face found in X[{i}]; pass on_missing='center' to crop its "
                        "centre instead"
                    )
                box, margin = center_box(gray.shape), 0.0
            else:
                margin = self.margin
            crops.append(crop_face(gray, box, margin=margin, size=self.size))
        return np.stack(crops)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        return tags


def _is_path(image):
    return isinstance(image, (str, os.PathLike))


def _name(image, index):
    return str(Path(image)) if _is_path(image) else f"<image {index}>"

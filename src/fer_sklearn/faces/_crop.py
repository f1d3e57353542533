"""Face crops: crop_face, and FaceCropper, a transformer from photos to face crops."""

import numbers
import os

import numpy as np
from PIL import Image
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_scalar

from ..io import check_color, resize_square
from ._detect import (
    DEFAULT_DETECTOR,
    DEFAULT_MIN_SCORE,
    check_detector_params,
    find_faces,
    read_photo,
)
from ._opencv import opencv

_ON_MISSING = ("center", "error")
REPLICATED = 0.1
"""Past the photo's edges a crop repeats the edge pixels for this fraction of its side, and
is black beyond: the emotion models were trained with shifts of up to a tenth of the side,
filled by repeating the edge (``ImageAugmenter``); a longer smear of the edge (a face cut by
the frame) reads worse than black (``benchmarks/bench_cut_faces.py``)."""


def check_crop_params(size, margin, color, *, size_name="size"):
    """Check the crop side, margin and channel order shared by the face estimators."""
    check_scalar(size, size_name, numbers.Integral, min_val=1)
    check_scalar(margin, "margin", numbers.Real, min_val=0, max_val=2)
    check_color(color)


def crop_face(gray, box, *, margin=0.0, size=48):
    """Cut a square face crop around ``box``; what lies past the photo's edges is filled.

    A box reaching past the edges (a face cut by the frame) is padded by
    repeating the edge pixels for a tenth of its side (as the emotion models'
    training shifts padded their faces), and black beyond.

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
        The face, grayscale.
    """
    cv2 = opencv()
    x, y, w, h = box
    side = max(w, h) * (1 + 2 * margin)
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    x1, y1 = x0 + max(1, int(round(side))), y0 + max(1, int(round(side)))
    height, width = gray.shape
    pad = max(0, -x0, -y0, x1 - width, y1 - height)
    if pad:
        repeat = min(pad, int(round(REPLICATED * (x1 - x0))))
        gray = cv2.copyMakeBorder(gray, repeat, repeat, repeat, repeat, cv2.BORDER_REPLICATE)
        gray = cv2.copyMakeBorder(gray, pad - repeat, pad - repeat, pad - repeat, pad - repeat,
                                  cv2.BORDER_CONSTANT, value=0)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    return resize_square(gray[y0:y1, x0:x1], size)


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
        Both detectors' boxes are already framed like FER2013's faces: the
        cascade's detected side is 0.96 of a pasted FER2013 face's side, and
        BlazeFace's box is mapped to the FER2013 frame from its keypoints
        (``factory/fit_framing.py``); a partly trained FER2013 model gave the
        same emotion on the Haar crop as on the original face for 79% of 430
        faces with no margin, 72% at 0.1 and 53% at 0.2.
    on_missing : {"center", "error"}, default="center"
        What to do with a photo in which no face is found. ``"center"`` (the
        default) crops the largest centred square, which is right for photos
        that already are face crops (the detector often misses a face that
        fills the whole frame); ``"error"`` raises a ValueError naming the
        photo. A transformer must return one row per input, so it cannot skip
        photos: to drop or report them, use
        :class:`~fer_sklearn.EmotionRecognizer` (its ``analyze_many``
        reports ``status="no_face"``).
    min_size : int or None, default=None
        Smallest face side in pixels (None: the detector's default); see
        :func:`detect_faces`.
    scale_factor : float, default=1.1
        Scale step of the Haar cascade.
    min_neighbors : int, default=5
        Detections needed to keep a face (Haar cascade).
    max_side : int or None, default=320
        Longest side photos are shrunk to for detection. Crops are cut from
        the photo as read: whole, or for a JPEG file decoded at 1/2, 1/4 or
        1/8 scale (several times faster) when that still leaves the smallest
        face the detector can report ``size`` pixels across.
    color : {"rgb", "bgr"}, default="rgb"
        Channel order of colour arrays.
    detector : {"blazeface", "haar"}, default="blazeface"
        The face detector; see :func:`detect_faces`.
    min_score : float, default=0.4
        BlazeFace's smallest detection score of a face kept; see
        :func:`detect_faces`.

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

    def __init__(self, size=48, margin=0.0, on_missing="center", min_size=None,
                 scale_factor=1.1, min_neighbors=5, max_side=320, color="rgb",
                 detector=DEFAULT_DETECTOR, min_score=DEFAULT_MIN_SCORE):
        self.size = size
        self.margin = margin
        self.on_missing = on_missing
        self.min_size = min_size
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.max_side = max_side
        self.color = color
        self.detector = detector
        self.min_score = min_score

    def _check_params(self):
        check_crop_params(self.size, self.margin, self.color)
        if self.on_missing not in _ON_MISSING:
            raise ValueError(f"on_missing must be one of {_ON_MISSING}, got {self.on_missing!r}")
        check_detector_params(self.min_size, self.scale_factor, self.min_neighbors, self.max_side,
                              self.detector, self.min_score)

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
        return [box for _, box in self._photos_and_boxes(X)]

    def _photos_and_boxes(self, X):
        for i, image in enumerate(_as_image_list(X)):
            photo = read_photo(image, self.detector, color=self.color, what=f"X[{i}]",
                               min_size=self.min_size, max_side=self.max_side,
                               crop_size=self.size)
            faces = find_faces(photo, self.detector, self.min_size, self.scale_factor,
                               self.min_neighbors, self.max_side, self.min_score)
            yield photo, (faces[0]["box"] if faces else None)

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
        for i, (photo, box) in enumerate(self._photos_and_boxes(X)):
            if box is None:
                if self.on_missing == "error":
                    raise ValueError(
                        f"no face found in X[{i}]; pass on_missing='center' to crop its "
                        "centre instead"
                    )
                box, margin = center_box(photo.gray.shape), 0.0
            else:
                box, margin = photo.in_gray(box), self.margin
            crops.append(crop_face(photo.gray, box, margin=margin, size=self.size))
        return np.stack(crops)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        return tags

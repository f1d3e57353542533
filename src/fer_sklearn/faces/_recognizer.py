"""EmotionRecognizer: the emotions of every face of a photo; rows and annotations for reports."""

import contextlib
import numbers
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from ._detect import (
    _check_detector_params, _COLORS, _detect_gray, _name, crop_face, read_image,
)
from ..pretrained import load_pretrained
from ..utils._labels import EMOTIONS, emotion_from_name

STATUSES = ("ok", "no_face", "error")
"""The ``status`` of an analysed file: faces found, none found, or not readable."""

ROW_FIELDS = ("file", "face", "x", "y", "w", "h", "emotion", *EMOTIONS, "status", "error")
"""The keys of the rows of :func:`iter_face_rows`, in order (CSV columns)."""


def _emotion_names(classes):
    """Map a model's ``classes_`` (FER2013 codes or names) to emotion names."""
    names = []
    for label in np.asarray(classes).tolist():
        if isinstance(label, numbers.Integral) and not isinstance(label, bool):
            if not 0 <= label < len(EMOTIONS):
                raise ValueError(
                    f"the model's class {label} is not a FER2013 code 0-{len(EMOTIONS) - 1}"
                )
            names.append(EMOTIONS[label])
        else:
            try:
                names.append(emotion_from_name(label))
            except ValueError:
                names.append(str(label))
    return names


class EmotionRecognizer:
    """Find the faces of photos and recognise the emotion of each.

    Faces are found with :func:`~fer_sklearn.detect_faces`, cut out as square
    grayscale crops (as :class:`~fer_sklearn.FaceCropper` does) and classified
    by ``model`` in one batch.

    Parameters
    ----------
    model : estimator, str, path-like or None, default=None
        A fitted classifier of face crops with ``predict_proba`` and
        ``classes_`` (e.g. a fitted :func:`~fer_sklearn.make_emotion_pipeline`),
        a path to one saved with :func:`joblib.dump`, or None for
        :func:`fer_sklearn.load_pretrained` (loaded at first use). Integer
        classes are read as FER2013 codes and reported by name.
    crop_size : int, default=48
        Side of the crops given to ``model``.
    margin : float, default=0.0
        Border added around each detected box before cropping, as a fraction of
        its side; see :class:`~fer_sklearn.FaceCropper` for why none is the default.
    min_size, scale_factor, min_neighbors, max_side :
        Detector parameters, see :func:`~fer_sklearn.detect_faces`.
    color : {"rgb", "bgr"}, default="rgb"
        Channel order of colour arrays (``"bgr"`` for ``cv2.imread`` output).
    n_threads : int or None, default=1
        PyTorch threads while classifying (the previous setting is restored
        afterwards); None keeps PyTorch's setting. One thread is the safe
        choice for the few faces of a photo: on a busy machine PyTorch's
        thread pool can be 50x slower on a single face than one thread.

    Attributes
    ----------
    model_ : estimator
        The resolved model (after the first analysis).
    emotions_ : list of str
        The emotion names of ``model_.classes_``.

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn import EmotionRecognizer, make_emotion_pipeline, make_faces
    >>> X, y = make_faces(70, random_state=0)
    >>> model = make_emotion_pipeline(max_epochs=1, module__width=4, module__depth=2).fit(X, y)
    >>> recognizer = EmotionRecognizer(model)
    >>> recognizer.analyze(np.zeros((240, 320, 3), dtype=np.uint8))  # no face in it
    []
    >>> [face["box"] for face in recognizer.analyze(X[0], detect=False)]
    [(0, 0, 48, 48)]
    """

    def __init__(self, model=None, *, crop_size=48, margin=0.0, min_size=30, scale_factor=1.1,
                 min_neighbors=5, max_side=320, color="rgb", n_threads=1):
        self.model = model
        self.crop_size = crop_size
        self.margin = margin
        self.min_size = min_size
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.max_side = max_side
        self.color = color
        self.n_threads = n_threads

    # ------------------------------------------------------------------ set-up
    def _check_params(self):
        if (isinstance(self.crop_size, bool) or not isinstance(self.crop_size, numbers.Integral)
                or self.crop_size < 1):
            raise ValueError(f"crop_size must be a positive integer, got {self.crop_size!r}")
        if not isinstance(self.margin, numbers.Real) or not 0 <= self.margin <= 2:
            raise ValueError(f"margin must be a number in [0, 2], got {self.margin!r}")
        if self.color not in _COLORS:
            raise ValueError(f"color must be one of {_COLORS}, got {self.color!r}")
        if self.n_threads is not None and (
            isinstance(self.n_threads, bool) or not isinstance(self.n_threads, numbers.Integral)
            or self.n_threads < 1
        ):
            raise ValueError(f"n_threads must be None or a positive integer, got {self.n_threads!r}")
        _check_detector_params(self.min_size, self.scale_factor, self.min_neighbors, self.max_side)

    @contextlib.contextmanager
    def _torch_threads(self):
        if self.n_threads is None:
            yield
            return
        import torch

        previous = torch.get_num_threads()
        if previous != self.n_threads:
            torch.set_num_threads(self.n_threads)
        try:
            yield
        finally:
            if previous != self.n_threads:
                torch.set_num_threads(previous)

    def _resolve_model(self):
        if getattr(self, "model_", None) is not None and getattr(self, "_model_source", None) is self.model:
            return self.model_
        self._check_params()
        model = self.model
        if model is None:
            model = load_pretrained()
        elif isinstance(model, (str, os.PathLike)):
            import joblib

            if not os.path.isfile(model):
                raise ValueError(f"model file {model} does not exist")
            model = joblib.load(model)
        if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
            raise TypeError(
                f"model must be a fitted classifier with predict_proba and classes_, got "
                f"{type(model).__name__}"
            )
        self.emotions_ = _emotion_names(model.classes_)
        self.model_ = model
        self._model_source = self.model
        return model

    # ------------------------------------------------------------------ core
    def _faces_of(self, gray, detect):
        """Boxes and crops of one grayscale photo."""
        if detect:
            boxes = [f["box"] for f in _detect_gray(gray, self.min_size, self.scale_factor,
                                                    self.min_neighbors, self.max_side)]
            crops = [crop_face(gray, b, margin=self.margin, size=self.crop_size) for b in boxes]
        else:
            height, width = gray.shape
            boxes = [(0, 0, width, height)]
            crops = [crop_face(gray, (0, 0, width, height), margin=0.0, size=self.crop_size)
                     if height == width else _resize(gray, self.crop_size)]
        return boxes, crops

    def _classify(self, crops):
        model = self._resolve_model()
        if not crops:
            return np.empty((0, len(self.emotions_)))
        with self._torch_threads():
            proba = model.predict_proba(np.stack(crops))
        return np.asarray(proba, dtype=np.float64)

    def _face_dicts(self, boxes, probas):
        faces = []
        for box, proba in zip(boxes, probas):
            scores = {name: float(p) for name, p in zip(self.emotions_, proba)}
            faces.append({"box": tuple(int(v) for v in box),
                          "emotion": self.emotions_[int(np.argmax(proba))],
                          "scores": scores})
        return faces

    def analyze(self, image, *, detect=True):
        """Return the faces of one photo with their emotions.

        Parameters
        ----------
        image : str, path-like, PIL.Image.Image or array-like
            The photo: a path, a PIL image, or an RGB (``color="bgr"`` for BGR)
            or grayscale array of any size.
        detect : bool, default=True
            Find faces first; ``False`` treats the whole image as one face.

        Returns
        -------
        faces : list of dict
            One ``{"box": (x, y, w, h), "emotion": str, "scores": {emotion:
            probability}}`` per face, largest first; empty when none is found.

        Raises
        ------
        ValueError
            For an unreadable file or a malformed array.
        TypeError
            For something that is not an image.
        """
        self._check_params()
        self._resolve_model()
        gray = read_image(image, color=self.color)
        boxes, crops = self._faces_of(gray, detect)
        return self._face_dicts(boxes, self._classify(crops))

    def analyze_many(self, images, *, batch_size=32, detect=True):
        """Analyse any number of photos, streaming one record per photo.

        Photos are read and searched ``batch_size`` at a time and all faces of a
        batch are classified in one call, so memory stays bounded whatever the
        number of photos. A photo that cannot be read, or has no face, gives a
        record too (``status`` ``"error"`` or ``"no_face"``) and the stream goes on.

        Parameters
        ----------
        images : iterable
            Paths (or PIL images or arrays), consumed lazily.
        batch_size : int, default=32
            Photos per batch.
        detect : bool, default=True
            Find faces first; ``False`` treats each image as one face crop.

        Returns
        -------
        records : generator of dict
            Parameters and the model are checked (and the model loaded) at the
            call; then, per photo:
            ``{"file": str, "status": "ok" | "no_face" | "error", "error": str or
            None, "faces": list of face dicts as in :meth:`analyze`}``, in the
            order of ``images``.
        """
        self._check_params()
        if (isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral)
                or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if isinstance(images, (str, os.PathLike)):
            raise TypeError("images must be an iterable of photos; wrap a single path in a list")
        self._resolve_model()
        return self._stream(images, batch_size, detect)  # checked above, now, not at next()

    def _stream(self, images, batch_size, detect):
        batch = []
        for index, image in enumerate(images):
            batch.append((index, image))
            if len(batch) == batch_size:
                yield from self._analyze_batch(batch, detect)
                batch = []
        if batch:
            yield from self._analyze_batch(batch, detect)

    def _analyze_batch(self, batch, detect):
        records, boxes, crops, owners = [], [], [], []
        for index, image in batch:
            record = {"file": _name(image, index), "status": "ok", "error": None, "faces": []}
            try:
                gray = read_image(image, color=self.color)
                found, cut = self._faces_of(gray, detect)
            except (ValueError, TypeError, OSError) as exc:
                record.update(status="error", error=str(exc))
                found, cut = [], []
            if record["status"] == "ok" and not found:
                record["status"] = "no_face"
            boxes += found
            crops += cut
            owners += [len(records)] * len(found)
            records.append(record)
        probas = self._classify(crops)
        for owner, face in zip(owners, self._face_dicts(boxes, probas)):
            records[owner]["faces"].append(face)
        return records


def _resize(gray, size):
    import cv2

    interpolation = cv2.INTER_AREA if max(gray.shape) > size else cv2.INTER_LINEAR
    return cv2.resize(gray, (size, size), interpolation=interpolation)


def iter_face_rows(images, recognizer, *, detect=True, batch_size=32):
    """Stream flat rows, one per face, for writing CSV or JSON lines.

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
        Keys :data:`ROW_FIELDS`: ``file``, ``face`` (0-based index in the photo),
        ``x, y, w, h``, ``emotion``, the seven emotion probabilities,
        ``status`` (``"ok"``, ``"no_face"``, ``"error"``) and ``error`` (the
        message, else None). A photo without a face, or unreadable, gives one
        row with ``face`` and the values None, so no file is lost.
    """
    if not isinstance(recognizer, EmotionRecognizer):
        raise TypeError(f"recognizer must be an EmotionRecognizer, got {type(recognizer).__name__}")
    return _rows(recognizer.analyze_many(images, batch_size=batch_size, detect=detect))


def _rows(records):
    for record in records:
        empty = dict.fromkeys(ROW_FIELDS)
        empty.update(file=record["file"], status=record["status"], error=record["error"])
        if not record["faces"]:
            yield empty
            continue
        for i, face in enumerate(record["faces"]):
            row = dict(empty)
            row.update(face=i, emotion=face["emotion"])
            row.update(zip(("x", "y", "w", "h"), face["box"]))
            row.update({e: face["scores"].get(e, 0.0) for e in EMOTIONS})
            yield row


def _font(size):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow < 10.1
        return ImageFont.load_default()


def annotate(image, faces, *, color="rgb", out=None):
    """Draw each face's box and emotion label on a copy of a photo.

    Parameters
    ----------
    image : str, path-like, PIL.Image.Image or array-like
        The photo (gray, RGB, or BGR with ``color="bgr"``).
    faces : list of dict
        Faces as returned by :meth:`EmotionRecognizer.analyze` (``"box"`` and
        ``"emotion"``; ``"scores"`` adds the probability to the label).
    color : {"rgb", "bgr"}, default="rgb"
        Channel order of a colour array.
    out : str, path-like or None, default=None
        Also save the annotated photo there (format from the extension).

    Returns
    -------
    annotated : ndarray of uint8, shape (height, width, 3)
        The RGB photo with the boxes and labels.
    """
    if color not in _COLORS:
        raise ValueError(f"color must be one of {_COLORS}, got {color!r}")
    pil = _to_rgb_pil(image, color)
    draw = ImageDraw.Draw(pil)
    width, height = pil.size
    line = max(2, round(min(width, height) / 200))
    font = _font(max(12, round(min(width, height) / 30)))
    palette = {"angry": (230, 40, 40), "disgust": (120, 170, 30), "fear": (150, 60, 200),
               "happy": (250, 200, 0), "sad": (40, 110, 230), "surprise": (250, 120, 0),
               "neutral": (200, 200, 200)}
    for face in faces:
        try:
            x, y, w, h = (int(v) for v in face["box"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"each face needs a 'box' of 4 numbers, got {face!r}") from None
        emotion = face.get("emotion") or "?"
        label = emotion
        if face.get("scores") and emotion in face["scores"]:
            label = f"{emotion} {face['scores'][emotion]:.0%}"
        box_color = palette.get(emotion, (0, 255, 0))
        draw.rectangle([x, y, x + w - 1, y + h - 1], outline=box_color, width=line)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        tw, th = right - left, bottom - top
        pad = max(2, th // 4)
        ty = y - th - 2 * pad if y - th - 2 * pad >= 0 else y + h
        tx = min(max(0, x), max(0, width - tw - 2 * pad))
        draw.rectangle([tx, ty, tx + tw + 2 * pad, ty + th + 2 * pad], fill=box_color)
        draw.text((tx + pad - left, ty + pad - top), label, fill=(0, 0, 0), font=font)
    if out is not None:
        pil.save(out)
    return np.asarray(pil, dtype=np.uint8)


def _to_rgb_pil(image, color):
    if isinstance(image, (str, os.PathLike)):
        try:
            with Image.open(image) as pil:
                return ImageOps.exif_transpose(pil).convert("RGB")
        except (OSError, SyntaxError) as exc:
            raise ValueError(f"{image}: not a readable image ({exc})") from None
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    read_image(image, color=color)  # validates shape and dtype with clear messages
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = array.astype(np.float64)
        if array.max() <= 1.0:
            array = array * 255
        array = np.clip(np.round(array), 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    array = array[..., :3]
    if color == "bgr":
        array = array[..., ::-1]
    return Image.fromarray(np.ascontiguousarray(array))

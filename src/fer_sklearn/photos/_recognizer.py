"""EmotionRecognizer: the emotions of every face of a photo."""

import contextlib
import numbers
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator
from sklearn.utils import check_scalar

from ..faces import (
    DEFAULT_DETECTOR,
    DEFAULT_MIN_SCORE,
    add_saliency,
    check_crop_params,
    check_detection,
    check_detector_params,
    check_explain,
    crop_face,
    find_faces,
    read_photo,
)
from ..io import resize_square
from ..neural_net import torch_threads
from ..pretrained import resolve_model
from ..utils import emotion_names


class EmotionRecognizer(BaseEstimator):
    """Find the faces of photos and recognise the emotion of each.

    Faces are found with :func:`~fer_sklearn.detect_faces`, cut out as square
    grayscale crops (as :class:`~fer_sklearn.FaceCropper` does) and classified
    by ``model`` in one batch.

    Parameters
    ----------
    model : estimator, str, path-like or None, default=None
        A fitted classifier of face crops with ``predict_proba`` and
        ``classes_`` (e.g. a fitted :func:`~fer_sklearn.make_emotion_pipeline`),
        a path to one saved with :func:`~fer_sklearn.save_model` (``.safetensors``)
        or :func:`joblib.dump`, the name of a shipped
        model (``"fast"``, ``"default"``, ``"accurate"``: see
        :func:`~fer_sklearn.load_pretrained`), or None for ``"default"``; a
        shipped model is loaded at first use. Integer
        classes are read as FER2013 codes and reported by name.
    crop_size : int, default=48
        Side of the crops given to ``model``.
    margin : float, default=0.0
        Border added around each detected box before cropping, as a fraction of
        its side; see :class:`~fer_sklearn.FaceCropper` for why none is the default.
    min_size, scale_factor, min_neighbors, max_side : int, float or None
        Detector parameters, see :func:`~fer_sklearn.detect_faces`.
    color : {"rgb", "bgr"}, default="rgb"
        Channel order of colour arrays (``"bgr"`` for ``cv2.imread`` output).
    n_threads : int or None, default=1
        PyTorch threads while classifying (the previous setting is restored
        afterwards); None keeps PyTorch's setting. One thread is the safe
        choice for the few faces of a photo: on a busy machine PyTorch's
        thread pool can be 50x slower on a single face than one thread.
    detector : {"blazeface", "haar"}, default="blazeface"
        The face detector, see :func:`~fer_sklearn.detect_faces`.
    n_jobs : int, default=-1
        Threads that read and search the photos of a batch at once in
        :meth:`analyze_many` (Pillow's decoders, OpenCV and onnxruntime
        release the GIL; the Haar cascade is copied for each thread); -1
        means one per core, 1 one photo after the other. The faces of a batch
        are then classified in one call.
    min_score : float, default=0.4
        BlazeFace's smallest detection score of a face kept, see
        :func:`~fer_sklearn.detect_faces`.

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
    >>> model = make_emotion_pipeline(max_epochs=1, module__width=4, module__depth=2,
    ...                               verbose=0).fit(X, y)
    >>> recognizer = EmotionRecognizer(model)
    >>> recognizer.analyze(np.zeros((240, 320, 3), dtype=np.uint8))  # no face in it
    []
    >>> [face["box"] for face in recognizer.analyze(X[0], detect=False)]
    [(0, 0, 48, 48)]
    """

    def __init__(self, model=None, *, crop_size=48, margin=0.0, min_size=None, scale_factor=1.1,
                 min_neighbors=5, max_side=320, color="rgb", n_threads=1,
                 detector=DEFAULT_DETECTOR, n_jobs=-1, min_score=DEFAULT_MIN_SCORE):
        self.model = model
        self.crop_size = crop_size
        self.margin = margin
        self.min_size = min_size
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.max_side = max_side
        self.color = color
        self.n_threads = n_threads
        self.detector = detector
        self.n_jobs = n_jobs
        self.min_score = min_score

    # ------------------------------------------------------------------ set-up
    def _check_params(self):
        check_crop_params(self.crop_size, self.margin, self.color, size_name="crop_size")
        if self.n_threads is not None:
            check_scalar(self.n_threads, "n_threads", numbers.Integral, min_val=1)
        if self.n_jobs != -1:
            check_scalar(self.n_jobs, "n_jobs", numbers.Integral, min_val=1)
        check_detector_params(self.min_size, self.scale_factor, self.min_neighbors, self.max_side,
                              self.detector, self.min_score)

    def _torch_threads(self):
        """PyTorch's threads set to ``n_threads`` for a block (unchanged when None)."""
        if self.n_threads is None:
            return contextlib.nullcontext()
        return torch_threads(self.n_threads)

    def _resolve_model(self):
        if (getattr(self, "model_", None) is not None
                and getattr(self, "_model_source", None) is self.model):
            return self.model_
        self._check_params()
        model = resolve_model(self.model)
        if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
            raise TypeError(
                f"model must be a fitted classifier with predict_proba and classes_, got "
                f"{type(model).__name__}"
            )
        try:
            self.emotions_ = emotion_names(np.asarray(model.classes_).tolist(), strict=False)
        except ValueError as exc:
            raise ValueError(f"the model's classes are not emotions: {exc}") from None
        self.model_ = model
        self._model_source = self.model
        return model

    # ------------------------------------------------------------------ core
    def _faces_of(self, image, detect):
        """Found faces (``box`` in the file's pixels, ``score``) and crops of one photo."""
        if not detect:  # the whole image, stretched to a square if it is not one
            gray = read_photo(image, "haar", color=self.color).gray
            height, width = gray.shape
            return [{"box": (0, 0, width, height), "score": None, "bounds": (width, height),
                     "stretched": True}], [resize_square(gray, self.crop_size)]
        photo = self._read(image)
        found = self._find(photo)
        bounds = tuple(round(n / photo.scale) for n in photo.gray.shape[::-1])  # file pixels
        for face in found:
            face["bounds"] = bounds  # where saliency maps are clipped (see _saliency)
        return found, self._crops(photo, [f["box"] for f in found])

    def _read(self, image):
        """The photo for the detector, a JPEG decoded no larger than detection and crops need."""
        return read_photo(image, self.detector, color=self.color, min_size=self.min_size,
                          max_side=self.max_side, crop_size=self.crop_size)

    def _find(self, photo):
        """The faces of a photo: ``box`` in its file's pixels, ``score`` (None for Haar)."""
        faces = find_faces(photo, self.detector, self.min_size, self.scale_factor,
                           self.min_neighbors, self.max_side, self.min_score)
        # the cascade's level weight is no probability: not comparable, so not reported
        return [{"box": f["box"], "score": f["score"] if self.detector == "blazeface" else None}
                for f in faces]

    def _crops(self, photo, boxes):
        return [crop_face(photo.gray, photo.in_gray(b), margin=self.margin, size=self.crop_size)
                for b in boxes]

    def _classify(self, crops):
        model = self._resolve_model()
        if not crops:
            return np.empty((0, len(self.emotions_)))
        with self._torch_threads():
            proba = model.predict_proba(np.stack(crops))
        return np.asarray(proba, dtype=np.float64)

    def _face_dicts(self, found, probas):
        faces = []
        for face, proba in zip(found, probas):
            scores = {name: float(p) for name, p in zip(self.emotions_, proba)}
            faces.append({"box": tuple(int(v) for v in face["box"]),
                          "score": face["score"],
                          "emotion": self.emotions_[int(np.argmax(proba))],
                          "scores": scores})
        return faces

    def _explained(self, faces, found, crops, explain):
        """``faces`` with their saliency maps where ``explain`` asks for them."""
        if not explain:
            return faces
        with self._torch_threads():
            return add_saliency(faces, found, crops, self.model_, self.emotions_,
                                margin=self.margin, explain_as=explain)

    def analyze(self, image, *, detect=True, explain=False):
        """Return the faces of one photo with their emotions.

        Parameters
        ----------
        image : str, path-like, PIL.Image.Image or array-like
            The photo: a path, a PIL image, or an RGB (``color="bgr"`` for BGR)
            or grayscale array of any size.
        detect : bool, default=True
            Find faces first; ``False`` treats the whole image as one face.
        explain : bool or str, default=False
            Also map each face's evidence for its emotion
            (:func:`~fer_sklearn.explain`; a string names its method).

        Returns
        -------
        faces : list of dict
            One ``{"box": (x, y, w, h), "score": float or None, "emotion": str,
            "scores": {emotion: probability}}`` per face, largest first; empty
            when none is found. ``score`` is BlazeFace's detection score (the
            probability that the box is a face); None for the Haar cascade,
            which has no comparable score, and with ``detect=False``. With
            ``explain``, also ``"saliency"``, the map (float32, at most 1) over
            ``"saliency_box"`` ``(x, y, w, h)``: the square the face's crop was
            cut from, clipped to the photo, one value per photo pixel.

        Raises
        ------
        ValueError
            For an unreadable file or a malformed array.
        TypeError
            For something that is not an image.
        """
        self._check_params()
        check_explain(explain)
        self._resolve_model()
        found, crops = self._faces_of(image, detect)
        return self._explained(self._face_dicts(found, self._classify(crops)), found, crops,
                               explain)

    def analyze_many(self, images, *, batch_size=32, detect=True, explain=False):
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
        explain : bool or str, default=False
            Add each face's saliency map, as :meth:`analyze` does.

        Returns
        -------
        records : generator of dict
            Parameters and the model are checked (and the model loaded) at the
            call; then, per photo:
            ``{"file": str, "status": "ok" | "no_face" | "error", "error": str or
            None, "faces": list of face dicts as in :meth:`analyze`}``, in the
            order of ``images``.

        Raises
        ------
        ImportError
            At the call, when ``detect`` is True and OpenCV cannot detect faces.
        """
        self._check_params()
        check_explain(explain)
        check_scalar(batch_size, "batch_size", numbers.Integral, min_val=1)
        if isinstance(images, (str, os.PathLike)):
            raise TypeError("images must be an iterable of photos; wrap a single path in a list")
        if detect:
            check_detection(self.detector)
        self._resolve_model()
        # checked above, now, not at next()
        return self._stream(images, batch_size, detect, explain)

    def _stream(self, images, batch_size, detect, explain=False):
        workers = effective_n_jobs(self.n_jobs)
        with contextlib.ExitStack() as stack:
            pool = stack.enter_context(ThreadPoolExecutor(workers)) if workers > 1 else None
            batch = []
            for index, image in enumerate(images):
                batch.append((index, image))
                if len(batch) == batch_size:
                    yield from self._analyze_batch(batch, detect, pool, explain)
                    batch = []
            if batch:
                yield from self._analyze_batch(batch, detect, pool, explain)

    def _read_and_find(self, image, detect):
        """Boxes, crops and error message of one photo (the message None when it was read)."""
        try:
            return (*self._faces_of(image, detect), None)
        except (ValueError, TypeError, OSError) as exc:
            return [], [], str(exc)

    def _analyze_batch(self, batch, detect, pool=None, explain=False):
        images = [image for _, image in batch]
        found_in = (pool.map(self._read_and_find, images, [detect] * len(images)) if pool
                    else map(self._read_and_find, images, [detect] * len(images)))
        records, found_faces, crops, owners = [], [], [], []
        for (index, image), (found, cut, error) in zip(batch, found_in):
            record = {"file": _name(image, index), "status": "ok", "error": None, "faces": []}
            if error is not None:
                record.update(status="error", error=error)
            elif not found:
                record["status"] = "no_face"
            found_faces += found
            crops += cut
            owners += [len(records)] * len(found)
            records.append(record)
        faces = self._explained(self._face_dicts(found_faces, self._classify(crops)),
                                found_faces, crops, explain)
        for owner, face in zip(owners, faces):
            records[owner]["faces"].append(face)
        return records


def _name(image, index):
    """The ``file`` of a record: the path, or the position of an in-memory image."""
    return str(Path(image)) if isinstance(image, (str, os.PathLike)) else f"<image {index}>"

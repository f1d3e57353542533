"""quantize: a fitted emotion model that predicts with int8 arithmetic on x86 CPUs."""

import copy

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..neural_net import EmotionClassifier, resolve_device


def quantize(model, X, *, n_images=512, random_state=0):
    """A copy of a fitted model that predicts with int8 arithmetic (x86 CPUs).

    Post-training static quantization, calibrated on up to ``n_images`` of
    ``X`` (a few hundred training faces suffice): typically 2-3x the images/s of
    the float32 model on a CPU, at a small cost in agreement with it (see the
    speed table of the performance guide for the shipped models). The calibration images are
    kept in the model (``int8_calibration_``), so the int8 network is rebuilt
    after pickling or further training; delete that attribute to go back to
    float32.

    Parameters
    ----------
    model : EmotionPipeline or EmotionClassifier
        A fitted pipeline (e.g. :func:`load_pretrained`) or classifier on the CPU.
    X : array-like of images
        Calibration images, as the model takes them (raw pixels for a pipeline).
    n_images : int, default=512
        How many images of ``X`` (drawn at random) calibrate.
    random_state : int, RandomState or None, default=0
        Which images are drawn.

    Returns
    -------
    model : EmotionPipeline or EmotionClassifier
        The int8 copy; ``model`` itself is left as it was.

    Examples
    --------
    >>> from fer_sklearn import load_pretrained, make_faces
    >>> from fer_sklearn.deploy import quantize
    >>> X, _ = make_faces(64, random_state=0)
    >>> int8 = quantize(load_pretrained("fast", device="cpu"), X)
    >>> int8.predict_proba(X[:3]).shape
    (3, 7)
    """
    model = copy.deepcopy(model)
    clf = model[-1] if hasattr(model, "steps") else model
    if not isinstance(clf, EmotionClassifier):
        raise TypeError(f"quantize takes an emotion pipeline or EmotionClassifier, got "
                        f"{type(model).__name__}")
    check_is_fitted(clf)
    if resolve_device(clf.device) != "cpu":
        raise ValueError(f"int8 inference runs on the CPU; the model is on {clf.device!r} "
                         "(load it with device='cpu')")
    images = model[:-1].transform(X) if clf is not model else X
    images = clf._images(images, reset=False)
    if len(images) > n_images:
        pick = check_random_state(random_state).choice(len(images), n_images, replace=False)
        images = images[np.sort(pick)]
    clf.int8_calibration_ = np.ascontiguousarray(images, dtype=np.float16)  # half the bytes
    return model

"""explain: a saliency map per face, for the predicted class or a chosen one."""

import numbers

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils import check_scalar
from sklearn.utils.validation import check_is_fitted

from ..utils import check_images, labels_like
from ._cam import GRADIENT_METHODS, cam_maps, is_explainable_network
from ._occlusion import occlusion_maps

METHODS = ("auto", *GRADIENT_METHODS, "occlusion")
"""The methods :func:`explain` offers (its ``method``)."""


def _parts(model):
    """``(preprocessing steps, final estimator)``: a pipeline's, nested pipelines unwrapped."""
    steps = []
    while isinstance(model, Pipeline):
        steps += [step for _, step in model.steps[:-1] if step not in (None, "passthrough")]
        model = model.steps[-1][1]
    return steps, model


def _network(final):
    """The CNN of an EmotionClassifier-like final step, or None."""
    module = getattr(final, "module_", None)
    return module if is_explainable_network(module) else None


def _image_shape(steps, final):
    """The ``image_shape`` that reads flat rows of pixels as images, where a step has one."""
    for step in (*steps, final):
        shape = getattr(step, "image_shape", None)
        if shape is not None:
            return shape
    return None


def image_shape_of(model):
    """The ``image_shape`` with which ``model`` reads flat rows of pixels (None: square)."""
    return _image_shape(*_parts(model))


def _classes(model, images, reshape):
    if hasattr(model, "classes_"):
        return np.asarray(model.classes_)
    # a bare predict_proba (an ONNX session wrapped as a classifier): columns by index
    return np.arange(np.shape(model.predict_proba(reshape(images[:1])))[1])


def _target_indices(target, classes, n):
    """The column of each face's target class, or None for the predicted class."""
    if target is None:
        return None
    labels = np.asarray(target)
    if labels.ndim > 1:
        raise ValueError(f"target must be one label or one per face, got shape {labels.shape}")
    if labels.ndim == 1 and len(labels) != n:
        raise ValueError(f"target has {len(labels)} labels for {n} faces: give one label for "
                         "all, or one per face")
    labels = np.atleast_1d(labels_like(np.atleast_1d(labels), classes))
    where = {value: i for i, value in enumerate(classes.tolist())}
    unknown = [value for value in labels.tolist() if value not in where]
    if unknown:
        raise ValueError(f"target {unknown[0]!r} is not one of the model's classes "
                         f"{classes.tolist()}")
    indices = np.array([where[value] for value in labels.tolist()], dtype=np.int64)
    return np.broadcast_to(indices, (n,)).copy()


def _resized(maps, size):
    """Maps ``(n, h', w')`` resized to ``size`` ``(h, w)``, as the pipeline resized the faces."""
    if maps.shape[1:] == tuple(size):
        return maps
    shrink = size[0] < maps.shape[1] or size[1] < maps.shape[2]
    with torch.no_grad():
        out = F.interpolate(torch.from_numpy(maps)[:, None], size=tuple(size), mode="bilinear",
                            align_corners=False, antialias=shrink)
    return out[:, 0].numpy()


def _gradient_maps(model, steps, final, X, targets, method):
    network = _network(final)
    if network is None:
        raise TypeError(
            f"method={method!r} needs a fitted EmotionClassifier, or a pipeline ending in one, "
            f"whose network is an EmotionCNN or an EnsembleCNN; got {type(final).__name__}. "
            "method='occlusion' explains any classifier with predict_proba")
    Xt = X
    for step in steps:
        Xt = step.transform(Xt)
    inputs = check_images(Xt, allow_channels=False, image_shape=getattr(final, "image_shape", None))
    fitted_shape = tuple(getattr(final, "image_shape_", inputs.shape[1:]))
    if inputs.shape[1:] != fitted_shape:
        raise ValueError(f"the faces reach the network as {inputs.shape[1]}x{inputs.shape[2]} "
                         f"images, but it was fitted on {fitted_shape[0]}x{fitted_shape[1]}")
    if targets is None and (getattr(final, "tta", False) or _precision(final) != "32"):
        # the model predicts in bf16, int8 or over test-time views: explain what it predicts
        targets = np.asarray(model.predict_proba(X)).argmax(axis=1)
    return cam_maps(network, inputs[:, None], targets, method=method,
                    device=getattr(final, "device", "cpu"))


def _precision(final):
    which = getattr(final, "inference_precision", None)
    return which() if callable(which) else "32"


def auto_method(model):
    """The method ``explain(model, X)`` uses by default (its ``method="auto"``).

    Parameters
    ----------
    model : fitted classifier
        As :func:`~fer_sklearn.explain` takes it.

    Returns
    -------
    method : str
        ``"layercam"`` for an :class:`~fer_sklearn.EmotionClassifier` (or a
        pipeline ending in one) of the package's CNNs, else ``"occlusion"``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from fer_sklearn import load_pretrained
    >>> from fer_sklearn.explanation import auto_method
    >>> auto_method(load_pretrained("fast")), auto_method(LogisticRegression())
    ('layercam', 'occlusion')
    """
    return "layercam" if _network(_parts(model)[1]) is not None else "occlusion"


def explain(model, X, *, target=None, method="auto", window=None, stride=None, normalize=True):
    """Map how relevant each pixel of each face is to the model's prediction (a saliency map).

    Parameters
    ----------
    model : fitted classifier
        An :class:`~fer_sklearn.EmotionClassifier`, a pipeline ending in one
        (:func:`~fer_sklearn.make_emotion_pipeline`, :func:`~fer_sklearn.load_pretrained`,
        :func:`~fer_sklearn.load_model`), or, for ``method="occlusion"``, any
        classifier with ``predict_proba`` (e.g. an ONNX session wrapped as one).
    X : array-like of images
        The faces, as the model's ``predict`` takes them: ``(n, h, w)`` or
        ``(n, h, w, c)`` images of any size it accepts, or flat rows of pixels.
    target : label, array-like of shape (n,) or None, default=None
        The class to explain: one label (as in ``classes_``; emotion names and
        FER2013 codes are matched as in ``score``) for every face, or one per
        face. None explains each face's predicted class.
    method : {"auto", "layercam", "gradcam", "occlusion"}, default="auto"
        ``"layercam"``: the positive gradients of the target's log-probability
        times the activations at every location of the first half of the
        convolution blocks, their maps averaged (LayerCAM); ``"gradcam"``: Grad-CAM
        on the last block (coarser, and less faithful on FER2013); ``"occlusion"``:
        the drop of the target's probability when a square of the face is
        replaced by the face's mean, needing only ``predict_proba``;
        ``"auto"``: ``"layercam"`` for the package's CNNs, else ``"occlusion"``.
        An :class:`~fer_sklearn.EnsembleCNN`'s maps combine its members' (each
        weighted by the gradient of the ensemble's mean logit).
    window : int or None, default=None
        ``"occlusion"`` only: the squares' side in the faces' pixels; None: a
        quarter of the faces' shorter side (12 pixels on 48x48 faces).
    stride : int or None, default=None
        ``"occlusion"`` only: the step between squares; None: half the window.
    normalize : bool, default=True
        Scale each map to a maximum of 1 (a map of zeros stays zero); False keeps
        the method's units (gradient-weighted activations, or probability drops
        for occlusion).

    Returns
    -------
    saliency : ndarray of float32, shape (n_faces, height, width)
        The non-negative relevance of each pixel, in the faces' coordinates
        (a map computed at the network's input size is resized back).

    Raises
    ------
    ValueError
        For an unknown method, a target that is not a class or a wrong number
        of targets, an unfitted model, or faces the model cannot take.
    TypeError
        For a model without ``predict_proba``, or a gradient method asked of a
        model that is not one of the package's CNNs.

    Notes
    -----
    The gradients run in float32 on a float32 copy of the network whatever the
    classifier's ``precision`` (bf16 or int8 predictions included); with
    ``target=None`` they explain the class the model itself predicts (in its
    precision, test-time augmentation included), while the map is that of
    the plain face. Occlusion calls ``predict_proba`` as the model is set.
    A map shows where the model's evidence lies, not why: see the user guide's
    page on explanations for what the maps cannot tell.

    Examples
    --------
    >>> from fer_sklearn import explain, load_pretrained, make_faces
    >>> faces, _ = make_faces(3, random_state=0)
    >>> saliency = explain(load_pretrained("fast"), faces)
    >>> saliency.shape, float(saliency.min()) >= 0, saliency.max(axis=(1, 2)).tolist()
    ((3, 48, 48), True, [1.0, 1.0, 1.0])
    >>> explain(load_pretrained("fast"), faces, target="happy", method="occlusion").shape
    (3, 48, 48)
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {list(METHODS)}")
    steps, final = _parts(model)
    if not hasattr(model, "predict_proba"):
        raise TypeError(f"explain needs a classifier with predict_proba, got "
                        f"{type(model).__name__}")
    try:
        check_is_fitted(model)
    except TypeError:  # not a scikit-learn estimator (e.g. an ONNX session wrapped): ready
        pass
    except NotFittedError:
        raise NotFittedError(f"this {type(model).__name__} is not fitted: fit it first, or "
                             "load a fitted model (load_pretrained, load_model)") from None
    if method == "auto":
        method = auto_method(model)
    if method in GRADIENT_METHODS and (window is not None or stride is not None):
        raise ValueError("window and stride set the squares of method='occlusion'; "
                         f"method={method!r} has none")
    images = check_images(X, image_shape=_image_shape(steps, final))
    n, height, width = images.shape[:3]
    rows = np.ndim(X) == 2  # flat rows of pixels go back to the model as rows
    reshape = (lambda stack: stack.reshape(len(stack), -1)) if rows else (lambda stack: stack)
    classes = _classes(model, images, reshape)
    targets = _target_indices(target, classes, n)
    if method in GRADIENT_METHODS:
        maps = _resized(_gradient_maps(model, steps, final, X, targets, method), (height, width))
    else:
        window = max(1, round(min(height, width) / 4)) if window is None else window
        check_scalar(window, "window", numbers.Integral, min_val=1)
        stride = max(1, window // 2) if stride is None else stride
        check_scalar(stride, "stride", numbers.Integral, min_val=1)
        maps, _ = occlusion_maps(model.predict_proba, images, targets, window=window,
                                 stride=stride, uint8=getattr(X, "dtype", None) == np.uint8,
                                 reshape=reshape)
    maps = np.maximum(maps, 0, dtype=np.float32)
    if normalize:
        top = maps.reshape(n, -1).max(axis=1)
        maps /= np.where(top > 0, top, 1)[:, None, None]
    return maps

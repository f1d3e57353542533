"""deletion_score: whether a saliency map points at what the model needs (deletion test)."""

import numbers

import numpy as np
from sklearn.utils import Bunch, check_random_state, check_scalar

from ..utils import check_images
from ._explain import image_shape_of


def deletion_score(model, X, saliency, *, fraction=0.2, random_state=0):
    """Compare deleting each face's most relevant pixels with deleting a random square.

    The deletion test of faithfulness (Petsiuk et al., 2018, in one step): each
    face's ``k`` most relevant pixels are replaced by the face's mean, and
    separately a square of the same ``k`` pixels at a random place; a map that
    points at what the model needs makes the predicted class's probability
    drop more than the square does. ``k`` is the square's area, the side of
    which is ``sqrt(fraction * height * width)`` rounded.

    Parameters
    ----------
    model : fitted classifier
        Anything with ``predict_proba``, as :func:`~fer_sklearn.explain` takes it.
    X : array-like of images
        The faces, as the model's ``predict`` takes them.
    saliency : ndarray of shape (n_faces, height, width)
        A map per face, e.g. from :func:`~fer_sklearn.explain`.
    fraction : float, default=0.2
        The share of each face deleted.
    random_state : int, RandomState or None, default=0
        Where the squares go.

    Returns
    -------
    result : Bunch
        ``relevant_drop`` and ``random_drop``: the mean drop of the predicted
        class's probability with the relevant pixels deleted and with the
        square; ``ratio``: their quotient (above 1: the map beats chance);
        ``relevant_drops`` and ``random_drops``: the drop of each face.

    Examples
    --------
    >>> from fer_sklearn import explain, load_pretrained, make_faces
    >>> from fer_sklearn.explanation import deletion_score
    >>> model = load_pretrained("fast")
    >>> faces, _ = make_faces(20, random_state=0)
    >>> result = deletion_score(model, faces, explain(model, faces))
    >>> sorted(result)[:3]
    ['random_drop', 'random_drops', 'ratio']
    """
    check_scalar(fraction, "fraction", numbers.Real, min_val=0, max_val=1,
                 include_boundaries="right")
    images = check_images(X, image_shape=image_shape_of(model))
    n, height, width = images.shape[:3]
    saliency = np.asarray(saliency, dtype=np.float64)
    if saliency.shape != (n, height, width):
        raise ValueError(f"saliency has shape {saliency.shape}, but X holds {n} faces of "
                         f"{height}x{width} pixels: give one map per face, at the faces' size")
    side = min(height, width, max(1, round(np.sqrt(fraction * height * width))))
    k = side * side
    rng = check_random_state(random_state)
    corners = np.column_stack([rng.randint(0, height - side + 1, n),
                               rng.randint(0, width - side + 1, n)])
    fill = images.reshape(n, height * width, -1).mean(axis=1)  # each face's mean, per channel
    relevant = images.reshape(n, height * width, -1).copy()
    order = np.argsort(-saliency.reshape(n, -1), axis=1, kind="stable")[:, :k]
    relevant[np.arange(n)[:, None], order] = fill[:, None]
    square = images.copy()
    for i, (y, x) in enumerate(corners):
        square[i, y:y + side, x:x + side] = fill[i]
    rows = np.ndim(X) == 2
    uint8 = getattr(X, "dtype", None) == np.uint8

    def model_input(stack):
        stack = np.rint(stack).astype(np.uint8) if uint8 else stack
        return stack.reshape(n, -1) if rows else stack.reshape(images.shape)

    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    predicted = proba.argmax(axis=1)
    before = proba[np.arange(n), predicted]

    def drops(stack):
        after = np.asarray(model.predict_proba(model_input(stack)), dtype=np.float64)
        return before - after[np.arange(n), predicted]

    relevant_drops, random_drops = drops(relevant), drops(square)
    random_drop = float(random_drops.mean())
    return Bunch(relevant_drop=float(relevant_drops.mean()), random_drop=random_drop,
                 ratio=float(relevant_drops.mean() / random_drop) if random_drop else np.nan,
                 relevant_drops=relevant_drops, random_drops=random_drops)

"""SaliencyDisplay: a grid of faces with their saliency maps, scikit-learn's Display style."""

import numbers

import matplotlib.pyplot as plt
import numpy as np
from sklearn.utils import check_scalar

from ..utils import check_images, labels_like
from ._explain import explain, image_shape_of
from ._overlay import overlay_saliency


class SaliencyDisplay:
    """A grid of faces, each with its saliency map blended over it and its labels.

    Build it with :meth:`from_estimator` (which explains the faces) or from
    maps at hand, then :meth:`plot`.

    Parameters
    ----------
    images : array-like of shape (n_faces, height, width) or (n_faces, height, width, 3)
        The faces.
    saliency : array-like of shape (n_faces, height, width)
        Their maps (e.g. from :func:`~fer_sklearn.explain`).
    y_pred : array-like of shape (n_faces,) or None, default=None
        The predicted labels, shown above each face.
    y_true : array-like of shape (n_faces,) or None, default=None
        The true labels, shown above each face (a mistake's frame is coloured).
    target : array-like of shape (n_faces,) or None, default=None
        The class each map explains, when it is not the predicted one.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
        The figure drawn on (after :meth:`plot`).
    ax_ : matplotlib.axes.Axes
        The area the grid is laid out in.
    axes_ : ndarray of matplotlib.axes.Axes
        One inset per face.

    See Also
    --------
    fer_sklearn.explain : The maps.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from fer_sklearn import EMOTIONS, SaliencyDisplay, load_pretrained, make_faces
    >>> faces, codes = make_faces(6, random_state=0)
    >>> display = SaliencyDisplay.from_estimator(load_pretrained("fast"), faces,
    ...                                          [EMOTIONS[c] for c in codes])
    >>> len(display.axes_)
    6
    """

    def __init__(self, images, saliency, *, y_pred=None, y_true=None, target=None):
        self.images = images
        self.saliency = saliency
        self.y_pred = y_pred
        self.y_true = y_true
        self.target = target

    def plot(self, *, ax=None, n_cols=6, alpha=0.6, cmap="inferno"):
        """Draw the faces with their maps.

        Parameters
        ----------
        ax : matplotlib.axes.Axes or None, default=None
            The area to lay the grid out in (its own frame is hidden); None makes
            a new figure sized for the grid.
        n_cols : int, default=6
            Faces per row.
        alpha : float, default=0.6
            Opacity of the map at the most relevant pixels
            (:func:`~fer_sklearn.explanation.overlay_saliency`).
        cmap : str, default="inferno"
            The map's matplotlib colormap.

        Returns
        -------
        display : SaliencyDisplay
            ``self``, with ``figure_``, ``ax_`` and ``axes_``.
        """
        check_scalar(n_cols, "n_cols", numbers.Integral, min_val=1)
        images = check_images(self.images)
        saliency = np.asarray(self.saliency, dtype=np.float64)
        if saliency.shape != images.shape[:3]:
            raise ValueError(f"saliency has shape {saliency.shape} for faces of shape "
                             f"{images.shape[:3]}: give one map per face, at its size")
        n = len(images)
        labels = {name: None if values is None else np.asarray(values).tolist()
                  for name, values in (("pred", self.y_pred), ("true", self.y_true),
                                       ("map", self.target))}
        for name, values in labels.items():
            if values is not None and len(values) != n:
                raise ValueError(f"{len(values)} {name} labels for {n} faces")
        n_cols = min(n_cols, n)
        n_rows = -(-n // n_cols)
        if ax is None:
            _, ax = plt.subplots(figsize=(1.6 * n_cols, 2.0 * n_rows), layout="constrained")
        ax.set_axis_off()
        cell_w, cell_h = 1.0 / n_cols, 1.0 / n_rows
        axes = []
        for i in range(n):
            row, col = divmod(i, n_cols)
            inset = ax.inset_axes([(col + 0.06) * cell_w, 1 - (row + 0.98) * cell_h,
                                   0.88 * cell_w, 0.7 * cell_h])
            inset.imshow(overlay_saliency(images[i], saliency[i], alpha=alpha, cmap=cmap),
                         interpolation="nearest")
            inset.set_xticks([])
            inset.set_yticks([])
            lines = [f"{name}: {values[i]}" for name, values in labels.items()
                     if values is not None]
            inset.set_title("\n".join(lines), fontsize=7.5, linespacing=1.15, pad=3)
            wrong = labels["true"] is not None and labels["pred"] is not None \
                and labels["true"][i] != labels["pred"][i]
            for spine in inset.spines.values():
                spine.set_edgecolor("#D55E00" if wrong else "#777777")
                spine.set_linewidth(1.2)
            axes.append(inset)
        self.figure_, self.ax_, self.axes_ = ax.figure, ax, np.array(axes, dtype=object)
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, target=None, method="auto", ax=None,
                       n_cols=6, alpha=0.6, cmap="inferno"):
        """Explain the faces with :func:`~fer_sklearn.explain` and draw the grid.

        Parameters
        ----------
        estimator : fitted classifier
            As :func:`~fer_sklearn.explain` takes it.
        X : array-like of images
            The faces, as the estimator's ``predict`` takes them (a few: one
            inset each).
        y : array-like of shape (n_faces,) or None, default=None
            The true labels, shown with the predicted ones.
        target : label, array-like or None, default=None
            The class to explain (see :func:`~fer_sklearn.explain`); None: the
            predicted one.
        method : str, default="auto"
            See :func:`~fer_sklearn.explain`.
        ax : matplotlib.axes.Axes or None, default=None
            Where to draw, see :meth:`plot`.
        n_cols : int, default=6
            Faces per row.
        alpha : float, default=0.6
            Opacity of the map at the most relevant pixels.
        cmap : str, default="inferno"
            The map's matplotlib colormap.

        Returns
        -------
        display : SaliencyDisplay
            The display, drawn.
        """
        y_pred = np.asarray(estimator.predict(X))
        if y is not None:  # FER2013 codes against a model of names, and the reverse
            y = labels_like(np.asarray(y), estimator.classes_)
        saliency = explain(estimator, X, target=y_pred if target is None else target,
                           method=method)
        images = check_images(X, image_shape=image_shape_of(estimator))
        shown = None
        if target is not None:
            shown = np.broadcast_to(np.asarray(target, dtype=object), (len(images),))
        display = cls(images, saliency, y_pred=y_pred, y_true=y, target=shown)
        return display.plot(ax=ax, n_cols=n_cols, alpha=alpha, cmap=cmap)

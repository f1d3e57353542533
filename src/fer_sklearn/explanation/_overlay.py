"""overlay_saliency: a saliency map blended over its face, as an RGB image."""

import numbers

import matplotlib
import numpy as np
from sklearn.utils import check_scalar


def _rgb_float(image):
    """An image (gray or RGB, 0-255 or 0-1) as float RGB in [0, 1]."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3 and image.shape[2] in (3, 4):
        image = image[..., :3]
    elif image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3:
        raise ValueError(f"image must be (h, w) or (h, w, 3) pixels, got shape {image.shape}")
    top = image.max(initial=0.0)
    return np.clip(image / (255.0 if top > 1 else 1.0), 0, 1)


def overlay_saliency(image, saliency, *, alpha=0.6, cmap="inferno"):
    """Blend a saliency map over its image: the more relevant a pixel, the more colour.

    Parameters
    ----------
    image : array-like of shape (h, w) or (h, w, 3)
        The face or photo region, gray or RGB, pixels 0-255 (or 0-1).
    saliency : array-like of shape (h, w)
        Its non-negative map (e.g. one of :func:`~fer_sklearn.explain`), scaled
        here to its maximum.
    alpha : float, default=0.6
        Opacity of the colour at the most relevant pixel; it fades with the
        relevance (as its square root), so that the face stays visible where
        the map is low.
    cmap : str, default="inferno"
        A matplotlib colormap.

    Returns
    -------
    overlay : ndarray of uint8, shape (h, w, 3)
        The RGB image with the map blended in.

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn.explanation import overlay_saliency
    >>> saliency = np.zeros((48, 48))
    >>> saliency[10:20, 10:20] = 1
    >>> out = overlay_saliency(np.full((48, 48), 128, np.uint8), saliency)
    >>> out.shape, out[0, 0].tolist(), out[15, 15].tolist() != [128, 128, 128]
    ((48, 48, 3), [128, 128, 128], True)
    """
    check_scalar(alpha, "alpha", numbers.Real, min_val=0, max_val=1)
    rgb = _rgb_float(image)
    saliency = np.asarray(saliency, dtype=np.float64)
    if saliency.shape != rgb.shape[:2]:
        raise ValueError(f"saliency has shape {saliency.shape}, the image "
                         f"{rgb.shape[:2]}: give a map of the image's size")
    top = saliency.max(initial=0.0)
    weight = np.clip(saliency / top, 0, 1) if top > 0 else np.zeros_like(saliency)
    colours = matplotlib.colormaps[cmap](weight)[..., :3]
    # the square root keeps the middling relevance visible, not only the peaks
    opacity = alpha * np.sqrt(weight)[..., None]
    blended = (1 - opacity) * rgb + opacity * colours
    return np.round(blended * 255).astype(np.uint8)

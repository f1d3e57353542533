"""make_faces: a synthetic data set of drawn faces showing the seven expressions."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from ..utils import EMOTIONS, Interval, validate_params

# Per emotion: brow height (up is positive), brow slant (positive raises the inner
# ends), eye openness, mouth curvature (positive smiles), mouth opening, mouth width.
_EXPRESSIONS = {
    "angry":    dict(brow_height=-0.02, brow_slant=-0.09, eye_open=0.8,
                     curve=-0.02, mouth_open=0.0, mouth_width=0.16),
    "disgust":  dict(brow_height=-0.03, brow_slant=-0.04, eye_open=0.5,
                     curve=-0.06, mouth_open=0.03, mouth_width=0.14),
    "fear":     dict(brow_height=0.05, brow_slant=0.07, eye_open=1.4,
                     curve=-0.02, mouth_open=0.05, mouth_width=0.20),
    "happy":    dict(brow_height=0.01, brow_slant=0.0, eye_open=0.9,
                     curve=0.10, mouth_open=0.0, mouth_width=0.22),
    "sad":      dict(brow_height=0.0, brow_slant=0.08, eye_open=0.8,
                     curve=-0.09, mouth_open=0.0, mouth_width=0.16),
    "surprise": dict(brow_height=0.08, brow_slant=0.0, eye_open=1.6,
                     curve=0.0, mouth_open=0.12, mouth_width=0.10),
    "neutral":  dict(brow_height=0.0, brow_slant=0.0, eye_open=1.0,
                     curve=0.0, mouth_open=0.0, mouth_width=0.17),
}

DESCR = """Synthetic faces
===============

Drawn, not photographed: an oval face with eyebrows, eyes and a mouth whose
shapes encode one of the seven FER2013 expressions (angry, disgust, fear,
happy, sad, surprise, neutral), at a random position and scale, with random
lighting and noise. For demos and tests where FER2013 is not at hand; a
model trained on it does not recognise real faces.
"""


def _soft(distance, width):
    """1 inside the stroke, fading to 0 over one pixel outside it."""
    return np.clip(width - distance + 0.5, 0.0, 1.0)


def _ellipse(xx, yy, cx, cy, rx, ry):
    """Signed-ish distance (in units of the smaller radius) to a filled ellipse."""
    r = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
    return (r - 1) * np.minimum(rx, ry)


def _segment(xx, yy, x0, y0, x1, y1):
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / (dx**2 + dy**2 + 1e-9), 0, 1)
    return np.hypot(xx - (x0 + t * dx), yy - (y0 + t * dy))


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "size": [Interval(Integral, 8, None, closed="left")],
        "random_state": ["random_state"],
    },
)
def make_faces(n_samples, *, size=48, random_state=None):
    """Draw synthetic grayscale faces with the seven FER2013 expressions.

    Each face is an oval with eyebrows, eyes and a mouth shaped by its
    expression (e.g. a smile for happy, raised brows, wide eyes and an open
    mouth for surprise), at a random position and scale, under a random
    lighting gradient, with pixel noise. The classes are balanced. The faces
    are synthetic: they exercise the library, they do not teach a model real
    expressions.

    Parameters
    ----------
    n_samples : int
        Number of faces.
    size : int, default=48
        Side of the square images in pixels.
    random_state : int, RandomState or None, default=None
        Seed for reproducible faces.

    Returns
    -------
    X : ndarray of uint8, shape (n_samples, size, size)
        The faces.
    y : ndarray of int64, shape (n_samples,)
        Emotion codes (``EMOTIONS[code]`` is the name).

    Examples
    --------
    >>> from fer_sklearn import make_faces
    >>> X, y = make_faces(14, random_state=0)
    >>> X.shape, X.dtype.name, sorted(set(y.tolist()))
    ((14, 48, 48), 'uint8', [0, 1, 2, 3, 4, 5, 6])
    """
    rng = check_random_state(random_state)
    y = rng.permutation(np.arange(n_samples) % len(EMOTIONS)).astype(np.int64)
    n = n_samples

    def jitter(scale):
        return rng.normal(0, scale, n)[:, None, None]

    expression = {key: np.array([_EXPRESSIONS[EMOTIONS[c]][key] for c in y])[:, None, None]
                  for key in _EXPRESSIONS["neutral"]}
    # coordinates in units of the image side, centred; per-face position and scale
    grid = (np.arange(size) + 0.5) / size - 0.5
    scale = rng.uniform(0.85, 1.15, n)[:, None, None]
    xx = (grid[None, None, :] - rng.uniform(-0.06, 0.06, n)[:, None, None]) / scale
    yy = (grid[None, :, None] - rng.uniform(-0.06, 0.06, n)[:, None, None]) / scale
    px = 1.0 / (size * scale)  # one pixel in face units

    face = _soft(_ellipse(xx, yy, 0, 0.02, 0.36, 0.45) / px, 0)
    features = np.zeros((n, size, size))
    eye_y = -0.08 + jitter(0.01)
    eye_ry = 0.035 * expression["eye_open"] * (1 + jitter(0.08))
    brow_y = eye_y - 0.09 - expression["brow_height"] + jitter(0.01)
    slant = expression["brow_slant"] * (1 + jitter(0.15))
    stroke = np.maximum(0.022, 1.2 * px)
    for side in (-1, 1):
        ex = side * (0.15 + jitter(0.01))
        features = np.maximum(features, _soft(_ellipse(xx, yy, ex, eye_y, 0.06, eye_ry) / px, 0))
        inner_x, outer_x = side * 0.05, side * 0.25
        brow = _segment(xx, yy, inner_x, brow_y - slant / 2, outer_x, brow_y + slant / 2)
        features = np.maximum(features, _soft(brow / px, stroke / px))
    mouth_y = 0.25 + jitter(0.01)
    width = expression["mouth_width"] * (1 + jitter(0.08))
    curve = expression["curve"] * (1 + jitter(0.15))
    # the lip line: a parabola through the corners, bending up for a smile
    lip = mouth_y + curve * (1 - (xx / width) ** 2) - curve
    lip_line = np.where(np.abs(xx) <= width, np.abs(yy - lip), np.inf)
    features = np.maximum(features, _soft(lip_line / px, stroke / px))
    opening = expression["mouth_open"] * (1 + jitter(0.1))
    open_mouth = _soft(_ellipse(xx, yy, 0, mouth_y + opening / 2, width * 0.8,
                                np.maximum(opening, 1e-3)) / px, 0)
    features = np.maximum(features, np.where(opening > 0.005, open_mouth, 0))
    if size >= 32:  # a hint of a nose
        features = np.maximum(features, 0.5 * _soft(_segment(xx, yy, 0, 0.0, 0.0, 0.12) / px,
                                                    0.5 * stroke / px))

    skin = rng.uniform(0.55, 0.85, n)[:, None, None]
    background = rng.uniform(0.1, 0.4, n)[:, None, None]
    image = background + face * (skin - background) - features * face * skin * 0.85
    angle = rng.uniform(0, 2 * np.pi, n)[:, None, None]
    light = 1 + rng.uniform(0, 0.35, n)[:, None, None] * (np.cos(angle) * xx
                                                          + np.sin(angle) * yy) * 2
    contrast = rng.uniform(0.7, 1.2, n)[:, None, None]
    image = (image * light - 0.5) * contrast + 0.5 + rng.normal(0, 0.04, (n, size, size))
    return np.clip(image * 255, 0, 255).round().astype(np.uint8), y

"""Occlusion (Zeiler and Fergus, 2014): how much the target's probability drops when a square
of the face is replaced by the face's mean, for squares all over the face.

It needs only ``predict_proba``: any classifier, an ONNX session wrapped as one, or a
pipeline can be explained, in the faces' own coordinates (no preprocessing is assumed).
"""

import numpy as np

# occluded copies per predict_proba call: few calls, and a bounded copy (48x48 float32 faces:
# 38 MiB)
_COPIES_PER_CALL = 4096


def window_starts(length, window, stride):
    """Where the squares start along one side: from half a window before the edge to half
    after, so that the edge pixels are covered as often as the middle ones."""
    return list(range(-(window // 2), length - window // 2 + 1, stride)) or [0]


def occlusion_maps(predict_proba, images, targets, *, window, stride, uint8=False, reshape=None):
    """The occlusion map of each image: the mean drop of its target's probability over the
    squares that cover each pixel, negative drops counted as 0.

    Parameters
    ----------
    predict_proba : callable
        Images (as ``reshape`` makes them) to probabilities ``(n, n_classes)``.
    images : ndarray of float32, shape (n, h, w) or (n, h, w, c)
        The faces as given.
    targets : ndarray of int of shape (n,), or None
        The column of each face's target in the probabilities; None: the most
        probable one on the untouched face.
    window, stride : int
        Side of the squares and step between them, in pixels.
    uint8 : bool, default=False
        The model was given uint8 pixels: so are the copies (the means rounded).
    reshape : callable or None, default=None
        Turns a stack of images into the model's input (e.g. back into rows of pixels).

    Returns
    -------
    maps : ndarray of float32, shape (n, h, w)
        In probability units.
    base : ndarray of float64, shape (n,)
        Each target's probability on the untouched face.
    """
    n, height, width = images.shape[:3]
    rows, cols = window_starts(height, window, stride), window_starts(width, window, stride)
    squares = [(max(0, y), min(height, y + window), max(0, x), min(width, x + window))
               for y in rows for x in cols]
    counts = np.zeros((height, width), np.float32)
    for y0, y1, x0, x1 in squares:
        counts[y0:y1, x0:x1] += 1
    # each face's mean (per channel), shaped to fill a square of it
    fill = images.reshape(n, height * width, -1).mean(axis=1).reshape(
        (n, 1, 1) + images.shape[3:])
    per_call = max(1, _COPIES_PER_CALL // (len(squares) + 1))
    maps = np.zeros((n, height, width), np.float32)
    base = np.zeros(n)
    for start in range(0, n, per_call):
        faces = images[start:start + per_call]
        k = len(faces)
        copies = np.repeat(faces[:, None], len(squares) + 1, axis=1)
        for j, (y0, y1, x0, x1) in enumerate(squares, start=1):
            copies[:, j, y0:y1, x0:x1] = fill[start:start + k]
        copies = copies.reshape(-1, *faces.shape[1:])
        if uint8:
            copies = np.rint(copies).astype(np.uint8)
        if reshape is not None:
            copies = reshape(copies)
        proba = np.asarray(predict_proba(copies), dtype=np.float64)
        proba = proba.reshape(k, len(squares) + 1, -1)
        wanted = proba[:, 0].argmax(axis=1) if targets is None else targets[start:start + k]
        target = proba[np.arange(k), :, wanted]  # (k, 1 + squares)
        base[start:start + k] = target[:, 0]
        drops = target[:, :1] - target[:, 1:]
        for j, (y0, y1, x0, x1) in enumerate(squares):
            maps[start:start + k, y0:y1, x0:x1] += drops[:, j, None, None].astype(np.float32)
    return np.maximum(maps / counts, 0), base

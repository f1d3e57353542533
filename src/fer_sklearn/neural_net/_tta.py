"""Test-time augmentation: the views of an image batch whose predictions are averaged."""

import numpy as np


def test_time_views(images, shift):
    """The image batch ``(n, 1, h, w)`` and its mirror, each also shifted by ``shift`` pixels.

    Parameters
    ----------
    images : ndarray of shape (n, 1, h, w)
    shift : int
        Shift in pixels of the four shifted copies of each view (0: none).

    Returns
    -------
    views : list of ndarray
        2 views without shift, 10 with: the image, its mirror, and each moved
        up, down, left and right (edges repeated).
    """
    mirrored = images[..., ::-1]
    views = [images, mirrored]
    if shift:
        padded = [np.pad(v, ((0, 0), (0, 0), (shift, shift), (shift, shift)), mode="edge")
                  for v in (images, mirrored)]
        h, w = images.shape[2:]
        for v in padded:
            for dy, dx in ((0, shift), (2 * shift, shift), (shift, 0), (shift, 2 * shift)):
                views.append(v[:, :, dy:dy + h, dx:dx + w])
    return [np.ascontiguousarray(v) for v in views]

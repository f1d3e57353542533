"""compose_photo: paste small face images onto a larger colour background (tests, benchmarks)."""

import cv2
import numpy as np
from sklearn.utils import check_random_state


def _background(height, width, rng):
    """A smooth colour gradient with a few soft blobs and sensor noise."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(40, 200, 3).astype(np.float32)
    slope = rng.uniform(-60, 60, (2, 3)).astype(np.float32)
    image = base + xx[..., None] / width * slope[0] + yy[..., None] / height * slope[1]
    for _ in range(3):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(30, 150)
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
        image += blob[..., None] * rng.uniform(-50, 50, 3).astype(np.float32)
    image += rng.normal(0, 4, image.shape).astype(np.float32)
    return image


def compose_photo(faces, *, size=(640, 480), face_sizes=(110, 180), rotate=0.0,
                  darken=(1.0, 1.0), random_state=None):
    """Paste gray face images, upscaled, onto a colour background without overlaps.

    Parameters
    ----------
    faces : sequence of ndarray of shape (h, w)
        Grayscale faces (e.g. 48x48 FER2013 images, uint8).
    size : tuple of int, default=(640, 480)
        ``(width, height)`` of the photo.
    face_sizes : tuple of int, default=(110, 180)
        Range of the pasted side of each face, in pixels.
    rotate : float, default=0.0
        Largest rotation of a face in degrees (each gets a random angle in
        ``[-rotate, rotate]``); the corners left by the rotation show the
        background.
    darken : tuple of float, default=(1.0, 1.0)
        Range of the brightness factor applied to each face.
    random_state : int, RandomState or None, default=None
        Seed of the placement and background.

    Returns
    -------
    photo : ndarray of uint8, shape (height, width, 3)
        The RGB photo; faces are tinted to a skin-like colour.
    boxes : list of tuple of int
        ``(x, y, w, h)`` where each face was pasted, in the order of ``faces``.

    Raises
    ------
    ValueError
        If the faces do not fit on the photo.
    """
    rng = check_random_state(random_state)
    width, height = size
    photo = _background(height, width, rng)
    boxes = []
    for face in faces:
        face = np.asarray(face, dtype=np.float32)
        side = int(rng.randint(face_sizes[0], face_sizes[1] + 1))
        for _ in range(200):
            x, y = int(rng.randint(0, width - side + 1)), int(rng.randint(0, height - side + 1))
            if all(x + side <= bx or bx + bw <= x or y + side <= by or by + bh <= y
                   for bx, by, bw, bh in boxes):
                break
        else:
            raise ValueError(f"cannot place {len(faces)} faces of up to {face_sizes[1]} px "
                             f"on a {width}x{height} photo without overlaps")
        patch = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
        patch = np.clip(patch * rng.uniform(*darken), 0, 255)
        mask = np.ones((side, side), np.float32)
        angle = rng.uniform(-rotate, rotate) if rotate else 0.0
        if angle:
            matrix = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
            patch = cv2.warpAffine(patch, matrix, (side, side), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REFLECT)
            mask = cv2.warpAffine(mask, matrix, (side, side), flags=cv2.INTER_LINEAR)
        tint = rng.uniform([0.95, 0.8, 0.65], [1.1, 0.95, 0.85]).astype(np.float32)
        region = photo[y:y + side, x:x + side]
        photo[y:y + side, x:x + side] = (mask[..., None] * patch[..., None] * tint
                                         + (1 - mask[..., None]) * region)
        boxes.append((x, y, side, side))
    return np.clip(photo, 0, 255).round().astype(np.uint8), boxes


def box_matches(truth, box):
    """Whether a detected box ``(x, y, w, h)`` matches a pasted face's box.

    The detected box's centre lies inside the true box, and its side is 0.6-1.6x
    the true side.
    """
    tx, ty, tw, th = truth
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    return tx <= cx <= tx + tw and ty <= cy <= ty + th and 0.6 <= w / tw <= 1.6

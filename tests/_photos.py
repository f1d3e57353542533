"""Test helpers: FER2013 faces (loaded once per session), composed photos, a tiny model."""

import functools
from pathlib import Path

import numpy as np
import pytest

from fer_sklearn import load_fer2013, make_emotion_pipeline, make_faces
from fer_sklearn.datasets import compose_photo, fer2013_file
from fer_sklearn.datasets._compose import box_matches as matches
from fer_sklearn.faces._detect import _cascade

FER2013 = fer2013_file()


def cascade_or_skip():
    """Skip the calling test when the installed OpenCV has no Haar cascade."""
    try:
        _cascade()
    except ImportError as exc:
        pytest.skip(f"face detection unavailable: {exc}")


@functools.lru_cache(maxsize=1)
def _fer_faces():
    X, y = load_fer2013(FER2013, usage="PublicTest", return_X_y=True)
    return X[:400].copy(), y[:400].copy()  # keep a few hundred, free the rest


def fer_faces():
    """400 FER2013 PublicTest faces and codes; skips when ../shared is absent."""
    if not FER2013.is_file():
        pytest.skip(f"FER2013 not found at {FER2013} (../shared beside the repo is absent)")
    return _fer_faces()


@functools.lru_cache(maxsize=1)
def tiny_model():
    """A pipeline fitted in seconds on drawn faces; its accuracy does not matter."""
    X, y = make_faces(140, random_state=0)
    return make_emotion_pipeline(max_epochs=1, module__width=8, module__depth=2,
                                 validation_fraction=None, random_state=0).fit(X, y)


def composed_photos(faces, n_photos, *, per_photo=(1, 3), seed=0, **kwargs):
    """Compose ``n_photos`` 640x480 photos from ``faces``; each face is used at most once.

    Every fourth photo has rotated faces (up to 10 degrees) and every fourth
    darkened ones (x0.5-0.8), so recall is measured on varied photos.

    Returns a list of ``(photo, boxes, face_indices)``.
    """
    rng = np.random.RandomState(seed)
    order = rng.permutation(len(faces))
    photos, used = [], 0
    for k in range(n_photos):
        count = rng.randint(per_photo[0], per_photo[1] + 1)
        idx = order[used:used + count]
        used += count
        options = dict(kwargs)
        if k % 4 == 1:
            options.setdefault("rotate", 10.0)
        if k % 4 == 3:
            options.setdefault("darken", (0.5, 0.8))
        photo, boxes = compose_photo(faces[idx], random_state=seed * 1000 + k, **options)
        photos.append((photo, boxes, idx))
    return photos


def recall(photos, detect):
    found = total = false = 0
    for photo, boxes, _ in photos:
        detected = [f["box"] for f in detect(photo)]
        total += len(boxes)
        found += sum(any(matches(t, b) for b in detected) for t in boxes)
        false += sum(not any(matches(t, b) for t in boxes) for b in detected)
    return found / total, false


PHOTOS = Path(__file__).parent / "data" / "photos"


def real_photo(name):
    """A shipped test photo (tests/data/photos/README.md) as an RGB array."""
    from PIL import Image

    return np.asarray(Image.open(PHOTOS / name).convert("RGB"))


def grace_hopper():
    """Matplotlib's public-domain portrait of Grace Hopper (600x512), as an RGB array."""
    import matplotlib
    from PIL import Image

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if not path.is_file():
        pytest.skip(f"matplotlib's sample photo is not at {path}")
    return np.asarray(Image.open(path).convert("RGB"))


def group_photo():
    """The astronaut, the cameraman and Grace Hopper side by side (1500x600): three faces."""
    import cv2

    canvas = np.full((600, 1500, 3), 200, np.uint8)
    people = [real_photo("astronaut.jpg"), real_photo("cameraman.jpg"), grace_hopper()]
    for i, person in enumerate(people):
        person = cv2.resize(person, (int(person.shape[1] * 480 / person.shape[0]), 480))
        canvas[60:540, 500 * i + 10:500 * i + 10 + min(480, person.shape[1])] = person[:, :480]
    return canvas


def small_face_photo():
    """The astronaut shrunk so that her face is about 40 px, on a plain 640x480 background."""
    import cv2

    background = compose_photo([], random_state=0)[0]
    person = cv2.resize(real_photo("astronaut.jpg"), (200, 200), interpolation=cv2.INTER_AREA)
    background[250:450, 400:600] = person  # her face: about (465, 272) to (505, 312)
    return background

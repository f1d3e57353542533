"""Crops of faces cut by the frame: filled past the edge as the models can read them."""

import numpy as np
import pytest

from fer_sklearn import load_fer2013, load_pretrained
from fer_sklearn.faces import crop_face
from fer_sklearn.io import read_image

from .._photos import real_photo


def test_past_the_edge_a_crop_repeats_the_edge_for_a_tenth_then_is_black():
    gray = read_image(real_photo("astronaut.jpg"))  # 512x512
    # a 200-pixel box whose left 60 pixels lie outside the photo
    crop = crop_face(gray, (-60, 100, 200, 200), size=200)
    np.testing.assert_array_equal(crop[:, 60:], gray[100:300, :140])  # inside: the photo
    repeated = crop[:, 40:60]  # a tenth of the side: the photo's first column, repeated
    np.testing.assert_array_equal(repeated, np.repeat(gray[100:300, :1], 20, axis=1))
    assert (crop[:, :40] == 0).all() and gray[100:300, 0].min() > 0  # beyond: black
    # a box inside the photo is cut as it is
    np.testing.assert_array_equal(crop_face(gray, (10, 20, 48, 48)), gray[20:68, 10:58])


@pytest.fixture(scope="module")
def public_test(fer2013_csv):
    X, y = load_fer2013(fer2013_csv, usage="PublicTest", return_X_y=True, as_names=True)
    return X[:400], np.asarray(y)[:400]


def test_faces_cut_at_the_chin_read_better_than_with_the_edge_smeared(public_test):
    """The shipped model on PublicTest faces with 30% of the face below the photo's edge."""
    import cv2

    X, y = public_test
    model = load_pretrained("default")
    n = 17  # 30% of the face: 17 of the frame's 48 pixels (benchmarks/bench_cut_faces.py)
    now = [crop_face(face[:48 - n], (0, 0, 48, 48)) for face in X]
    smeared = [cv2.copyMakeBorder(face[:48 - n], 0, n, 0, 0, cv2.BORDER_REPLICATE) for face in X]
    whole = np.mean(model.predict(X) == y)
    accuracy_now = np.mean(model.predict(np.stack(now)) == y)
    accuracy_smeared = np.mean(model.predict(np.stack(smeared)) == y)
    # on these 400 faces: whole 0.645, now 0.47, smeared 0.34 (the mouth is gone either way)
    assert accuracy_now > accuracy_smeared + 0.1
    assert accuracy_now < whole

"""One rule for the scale of pixels, whether faces go to ``predict`` or photos to ``analyze``:
0-255 values (any dtype), 16-bit arrays scaled to 0-255, fractions in [0, 1] refused clearly.

Budget: about 5 s on 2 CPU cores (the shipped ``fast`` model, a few faces and photos).
"""

import numpy as np
import pytest

from fer_sklearn import EmotionRecognizer, load_pretrained, make_faces
from fer_sklearn.datasets import compose_photo
from fer_sklearn.io import read_image


@pytest.fixture(scope="module")
def model():
    return load_pretrained("fast", device="cpu")


@pytest.fixture(scope="module")
def faces():
    return make_faces(70, random_state=4)[0]


def test_uint16_faces_predict_as_their_8_bit_values(model, faces):
    sixteen = faces.astype(np.uint16) * 257  # 255 -> 65535: a 16-bit image of the same faces
    np.testing.assert_array_equal(model.predict(sixteen), model.predict(faces))
    np.testing.assert_allclose(model.predict_proba(sixteen), model.predict_proba(faces), atol=1e-5)
    # a uint16 array that holds 8-bit values is read as it is
    np.testing.assert_array_equal(model.predict(faces.astype(np.uint16)), model.predict(faces))


def test_fractions_are_refused_by_predict_and_analyze_alike(model, faces):
    with pytest.raises(ValueError, match=r"scaled to \[0, 1\]"):
        model.predict(faces / 255.0)
    photo, _ = compose_photo(faces[:1], random_state=0)
    recognizer = EmotionRecognizer(model)
    assert recognizer.analyze(photo)  # a list of faces
    with pytest.raises(ValueError, match=r"scaled to \[0, 1\].*astype\(np.uint8\)"):
        recognizer.analyze(photo / 255.0)


def test_16_bit_photos_read_as_8_bit(faces):
    photo, _ = compose_photo(faces[:1], random_state=0)
    np.testing.assert_array_equal(read_image(photo.astype(np.uint16) * 257), read_image(photo))


def test_whole_photos_given_as_faces_are_warned_about_or_named(model, faces):
    from PIL import Image

    photo, _ = compose_photo(faces[:1], random_state=0)
    same = [Image.fromarray(photo), Image.fromarray(photo[::-1])]
    with pytest.warns(UserWarning, match=r"look like whole photos.*EmotionRecognizer"):
        assert model.predict(same).shape == (2,)
    smaller = Image.fromarray(photo).resize((320, 200))
    with pytest.raises(ValueError, match=r"images of different sizes \(\d+x\d+, 200x320\).*"
                                         "EmotionRecognizer"):
        model.predict([Image.fromarray(photo), smaller])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # face crops of any size are no photos
        model.predict([Image.fromarray(face).resize((200, 200)) for face in faces[:2]])

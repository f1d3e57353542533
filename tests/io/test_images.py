"""Tests of reading photos for detection: JPEGs decoded at the scale detection and crops need.

A JPEG file is decoded by libjpeg at 1/2, 1/4 or 1/8 scale when the detector
searches a smaller copy anyway and the smallest face it can report keeps
``crop_size`` pixels across; boxes still come back in the file's pixels.

Time budget: under 5 s on two busy cores (measured 1.5 s; the tiny model is
shared with the other face tests).
"""

import numpy as np
import pytest
from PIL import Image

from fer_sklearn import EmotionRecognizer, FaceCropper, detect_faces, make_faces
from fer_sklearn.datasets import compose_photo
from fer_sklearn.faces._detect import least_scale, read_photo

from .._photos import matches, real_photo, tiny_model


@pytest.fixture(scope="module")
def jpeg(tmp_path_factory):
    """A 640x480 JPEG with one 150-px face pasted at a known box."""
    faces, _ = make_faces(1, random_state=3)
    photo, boxes = compose_photo(faces, face_sizes=(150, 150), random_state=3)
    path = tmp_path_factory.mktemp("photos") / "one_face.jpg"
    Image.fromarray(photo).save(path, quality=90)
    return path, boxes[0]


def test_least_scale_keeps_detection_and_the_smallest_face_whole():
    # 640x480 searched at 320: BlazeFace's smallest face is a fifth of 480 = 96 px -> 48 at 1/2
    assert least_scale(640, 480, "blazeface", None, 320, 48) == 0.5
    assert least_scale(640, 480, "blazeface", None, 320, 96) == 1.0  # bigger crops
    assert least_scale(640, 480, "blazeface", None, None, 48) == 1.0  # full-size search
    # min_size=40: the smallest face is a fifth of a 128-px square at half scale (51.2 px),
    # 0.94 of it still gives 48 px; libjpeg's next scale down is 1/2, so it decodes whole
    assert least_scale(640, 480, "blazeface", 40, 320, 48) == pytest.approx(48 / 51.2)
    # the cascade finds 24-px faces in its 320-px copy: 48 px of the file
    assert least_scale(640, 480, "haar", None, 320, 48) == 1.0
    # a 4000x3000 phone photo: searched at 320 (0.08), smallest face 600 px -> 48 at 0.08
    assert least_scale(4000, 3000, "blazeface", None, 320, 48) == pytest.approx(0.08)
    assert least_scale(4000, 3000, "haar", None, 320, 48) == pytest.approx(0.16)


def test_a_jpeg_is_decoded_at_half_scale_and_other_inputs_whole(jpeg, tmp_path):
    path, _ = jpeg
    photo = read_photo(path, "blazeface", max_side=320)
    assert photo.scale == 0.5
    assert photo.gray.shape == (240, 320) and photo.pixels.shape == (240, 320, 3)
    assert read_photo(path, "blazeface").scale == 1.0  # no max_side: whole
    assert read_photo(path, "blazeface", min_size=40, max_side=320).scale == 1.0
    png = tmp_path / "same.png"
    Image.open(path).save(png)
    whole = read_photo(png, "blazeface", max_side=320)
    assert whole.scale == 1.0 and whole.gray.shape == (480, 640)
    array = read_photo(np.asarray(Image.open(path)), "blazeface", max_side=320)
    assert array.scale == 1.0 and array.gray.shape == (480, 640)
    # the reduced luma is the whole one shrunk: mean difference of a few gray levels
    shrunk = np.asarray(Image.fromarray(whole.gray).resize((320, 240), Image.BOX), dtype=float)
    assert np.abs(shrunk - photo.gray).mean() < 3


def test_boxes_of_a_reduced_jpeg_are_in_the_files_pixels(jpeg):
    path, truth = jpeg
    pixels = np.asarray(Image.open(path).convert("RGB"))
    from_file, from_array = detect_faces(path), detect_faces(pixels)
    assert len(from_file) == len(from_array) == 1
    assert matches(truth, from_file[0]["box"])
    np.testing.assert_allclose(from_file[0]["box"], from_array[0]["box"], atol=4)
    for name, (x, y) in from_file[0]["keypoints"].items():
        np.testing.assert_allclose((x, y), from_array[0]["keypoints"][name], atol=4)
    assert FaceCropper().detect([path]) == [from_file[0]["box"]]


def test_crops_of_a_reduced_jpeg_match_those_of_the_whole_photo(jpeg):
    path, _ = jpeg
    recognizer = EmotionRecognizer(tiny_model())
    found, crops = recognizer._faces_of(path, True)
    whole, whole_crops = recognizer._faces_of(np.asarray(Image.open(path)), True)
    boxes, whole_boxes = ([f["box"] for f in faces] for faces in (found, whole))
    assert len(crops) == len(whole_crops) == 1
    np.testing.assert_allclose(boxes, whole_boxes, atol=4)
    difference = np.abs(crops[0].astype(float) - whole_crops[0]).mean()
    assert difference < 6  # gray levels, out of 255: the same face, framed the same way
    cropped = FaceCropper().fit_transform([path])[0]
    np.testing.assert_array_equal(cropped, crops[0])
    assert [f["box"] for f in recognizer.analyze(path)] == boxes


def test_an_exif_rotated_jpeg_is_reduced_and_turned(tmp_path):
    photo = real_photo("astronaut.jpg")  # 512x512, one face
    wide = np.zeros((512, 1024, 3), dtype=np.uint8)
    wide[:, 512:] = photo
    image = Image.fromarray(np.rot90(wide).copy())  # stored turned a quarter
    exif = image.getexif()
    exif[0x0112] = 6  # orientation: turn 90 degrees clockwise to view
    path = tmp_path / "turned.jpg"
    image.save(path, quality=92, exif=exif)
    read = read_photo(path, "blazeface", max_side=320)
    assert read.scale == 0.5 and read.gray.shape == (256, 512)  # decoded at 1/2, then turned
    faces = detect_faces(path)
    expected = detect_faces(wide)
    assert len(faces) == len(expected) == 1
    np.testing.assert_allclose(faces[0]["box"], expected[0]["box"], atol=6)

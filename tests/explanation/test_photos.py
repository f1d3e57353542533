"""Saliency maps of the faces of real photos (tests/data/photos): EmotionRecognizer's
``analyze(..., explain=True)`` in the photo's pixels, ``annotate``'s overlay, and
``fer-sklearn predict --explain``. The shipped ``fast`` model; a few seconds."""

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.stats import spearmanr

from fer_sklearn import EmotionRecognizer, explain
from fer_sklearn.cli import main
from fer_sklearn.faces import annotate, crop_face
from fer_sklearn.io import read_image

PHOTOS = Path(__file__).parents[1] / "data" / "photos"
ASTRONAUT, CAMERAMAN = PHOTOS / "astronaut.jpg", PHOTOS / "cameraman.jpg"


@pytest.fixture(scope="module")
def recognizer(shipped):
    return EmotionRecognizer(shipped["fast"])


@pytest.fixture(scope="module")
def photo():
    return np.asarray(Image.open(ASTRONAUT).convert("RGB"))


def test_each_face_gets_its_map_in_the_photos_pixels(recognizer, photo):
    (face,) = recognizer.analyze(photo, explain=True)
    x, y, w, h = face["saliency_box"]
    assert face["saliency"].shape == (h, w) and face["saliency"].dtype == np.float32
    bx, by, bw, bh = face["box"]
    assert (x, y) == (bx, by) and (w, h) == (max(bw, bh),) * 2  # no margin: the box squared
    assert 0.9 < face["saliency"].max() <= 1.0 and face["saliency"].min() >= 0
    # the map is the crop's map, moved onto the photo
    crop = crop_face(read_image(photo), face["box"], size=48)
    expected = explain(recognizer.model_, crop[None], target=face["emotion"])[0]
    shrunk = np.asarray(Image.fromarray(face["saliency"], mode="F").resize((48, 48)))
    assert spearmanr(shrunk.ravel(), expected.ravel())[0] > 0.95


def test_a_face_at_the_border_has_its_map_clipped_to_the_photo(recognizer, photo):
    (whole,) = recognizer.analyze(photo, explain=True)
    left = whole["box"][0] + whole["box"][2] // 3
    cut = np.ascontiguousarray(photo[:, left:])  # the face's left third is gone
    faces = recognizer.analyze(cut, explain=True)
    assert faces, "the cut face was not found"
    x, y, w, h = faces[0]["saliency_box"]
    assert x == 0 and faces[0]["saliency"].shape == (h, w)
    assert x + w <= cut.shape[1] and y + h <= cut.shape[0]


def test_without_explain_the_faces_are_as_before(recognizer, photo):
    plain = recognizer.analyze(photo)
    explained = recognizer.analyze(photo, explain="occlusion")
    assert [set(face) for face in plain] == [{"box", "score", "emotion", "scores"}]
    assert [{k: f[k] for k in plain[0]} for f in explained] == plain
    (whole,) = recognizer.analyze(photo, detect=False, explain=True)
    assert whole["saliency_box"] == (0, 0, 512, 512) and whole["saliency"].shape == (512, 512)
    with pytest.raises(ValueError, match="explain must be True, False or one of"):
        recognizer.analyze(photo, explain="shap")


def test_analyze_many_explains_every_photo(recognizer):
    records = list(recognizer.analyze_many([ASTRONAUT, CAMERAMAN], explain=True))
    faces = [face for record in records for face in record["faces"]]
    assert faces and all(face["saliency"].shape == face["saliency_box"][:1:-1]
                         for face in faces)


def test_annotate_blends_the_maps_inside_their_boxes_only(recognizer, photo):
    faces = recognizer.analyze(photo, explain=True)
    plain, overlaid = annotate(photo, faces), annotate(photo, faces, saliency=True)
    x, y, w, h = faces[0]["saliency_box"]
    inside = np.zeros(photo.shape[:2], bool)
    inside[y:y + h, x:x + w] = True
    changed = (plain != overlaid).any(axis=2)
    assert changed[inside].mean() > 0.2 and not changed[~inside].any()
    with pytest.raises(ValueError, match="analyze the photo with explain=True"):
        annotate(photo, recognizer.analyze(photo), saliency=True)


def test_cli_predict_writes_the_overlays(tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    code = main(["predict", "--model", "fast", str(ASTRONAUT), str(PHOTOS / "chelsea_cat.jpg"),
                 "--explain", str(tmp_path / "maps"), "--annotate", str(tmp_path / "boxes"),
                 "--output", str(rows)])
    assert code == 0
    assert "Wrote saliency maps of 2 image(s) to" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "maps").iterdir()) == ["astronaut.jpg",
                                                                      "chelsea_cat.jpg"]
    maps = np.asarray(Image.open(tmp_path / "maps" / "astronaut.jpg"), dtype=float)
    boxes = np.asarray(Image.open(tmp_path / "boxes" / "astronaut.jpg"), dtype=float)
    assert np.abs(maps - boxes).mean() > 1  # the maps are drawn on one copy only
    with open(rows, newline="") as f:
        assert "saliency" not in next(csv.reader(f))

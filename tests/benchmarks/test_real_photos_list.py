"""The frozen list of the real-photo benchmark (``benchmarks/real_photos.json``), read as data.

The benchmark measures detection on it (``benchmarks/bench_real_photos.py``); these tests keep
the list sound: each half has photos with and without faces, every photo its package and
licence, the held-out wild half enough faces cut by the frame and turned, and no held-out
face composed from a photo tuned on. Under a second.
"""

import json
from collections import Counter
from pathlib import Path

import pytest

LISTING = json.loads(
    (Path(__file__).resolve().parents[2] / "benchmarks" / "real_photos.json").read_text())
PHOTOS = LISTING["photos"]


def test_the_list_has_photos_with_and_without_faces_in_both_halves():
    assert len({p["name"] for p in PHOTOS}) == len(PHOTOS)
    with_faces = [p for p in PHOTOS if p["faces"]]
    assert len(with_faces) >= 10 and len(PHOTOS) - len(with_faces) >= 20
    for split in ("tune", "report"):
        half = [p for p in PHOTOS if p["split"] == split]
        assert any(p["faces"] for p in half) and any(not p["faces"] for p in half)
        assert any(p["category"].startswith("animal") for p in half)
    for photo in PHOTOS:
        if "compose" not in photo:
            assert photo["package"] in LISTING["packages"] and photo["licence"]
        assert all(len(box) == 4 and box[2] > 0 and box[3] > 0 for box in photo["faces"])


def test_the_held_out_half_has_the_faces_the_targets_are_measured_on():
    kinds = {split: Counter(kind for p in PHOTOS if p["split"] == split
                            for kind in p.get("kinds", ()))
             for split in ("wild-tune", "wild-heldout")}
    assert kinds["wild-heldout"]["cut"] >= 30 and kinds["wild-heldout"]["turned"] >= 20
    assert sum(not p["faces"] for p in PHOTOS if p["split"] == "wild-heldout") >= 10
    for photo in PHOTOS:
        if photo["split"].startswith("wild") and photo["faces"]:
            assert len(photo["kinds"]) == len(photo["faces"])
            assert set(photo["kinds"]) <= {"cut", "turned", "whole"}


@pytest.mark.parametrize("split", ["wild-heldout", "report"])
def test_no_held_out_face_is_composed_from_a_tuned_photo(split):
    by_name = {p["name"]: p for p in PHOTOS}
    tuned = {p["name"] for p in PHOTOS if p["split"] in ("tune", "wild-tune")}
    windows = []
    for photo in PHOTOS:
        if "compose" in photo and photo["split"] == split:
            source = by_name[photo["compose"]["source"]]  # every recipe names a listed photo
            assert "compose" not in source
            if photo["faces"]:
                assert source["name"] not in tuned, photo["name"]
            elif source["name"] in tuned:
                windows.append(photo["name"])
    # the exception: two windows of the tune half's cat photo among the photos without faces
    assert windows == (["window_chelsea_cat_0", "window_chelsea_cat_1"]
                       if split == "wild-heldout" else [])

"""The wild part of the real-photo list: its held-out half is large enough and apart."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .._photos import real_photo

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def real_photos():
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCHMARKS))
        import real_photos

        yield real_photos


def test_the_held_out_half_has_the_faces_the_targets_are_measured_on(real_photos):
    photos = real_photos.manifest()["photos"]
    kinds = {split: Counter(kind for p in photos if p["split"] == split
                            for kind in p.get("kinds", ()))
             for split in ("wild-tune", "wild-heldout")}
    assert kinds["wild-heldout"]["cut"] >= 30 and kinds["wild-heldout"]["turned"] >= 20
    assert sum(not p["faces"] for p in photos if p["split"] == "wild-heldout") >= 10
    for photo in photos:
        if photo["split"].startswith("wild") and photo["faces"]:
            assert len(photo["kinds"]) == len(photo["faces"])
            assert set(photo["kinds"]) <= {"cut", "turned", "whole"}


def test_no_held_out_face_is_composed_from_a_tuned_photo(real_photos):
    photos = real_photos.manifest()["photos"]
    by_name = {p["name"]: p for p in photos}
    tuned = {p["name"] for p in photos if p["split"] in ("tune", "wild-tune")}
    windows = []
    for photo in photos:
        if "compose" in photo:
            source = by_name[photo["compose"]["source"]]  # every recipe names a listed photo
            assert "compose" not in source
            if photo["split"] == "wild-heldout" and photo["faces"]:
                assert source["name"] not in tuned, photo["name"]
            elif photo["split"] == "wild-heldout" and source["name"] in tuned:
                windows.append(photo["name"])
    # the exception: two windows of the tune half's cat photo among the photos without faces
    assert windows == ["window_chelsea_cat_0", "window_chelsea_cat_1"]


def test_a_recipe_mirrors_turns_and_cuts_as_its_labels_say(real_photos):
    source = Image.fromarray(real_photo("astronaut.jpg"))
    mirrored = np.asarray(source.transpose(Image.Transpose.FLIP_LEFT_RIGHT)).astype(float)
    centre = [288.0, 124.5]  # her face's centre once mirrored: 512 - 224
    recipe = {"mirror": True, "angle": 30.0, "centre": centre, "window": [168, 4, 408, 244],
              "size": 120}
    image = np.asarray(real_photos.composed(source, recipe)).astype(float)
    assert image.shape == (120, 120, 3)  # the 240-pixel window shrunk to 120
    # turned about the face's centre, which stays in the middle of the window
    middle = image[56:65, 56:65].mean(axis=(0, 1))
    assert np.abs(middle - mirrored[116:133, 280:297].mean(axis=(0, 1))).max() < 15
    np.testing.assert_allclose(real_photos.turn_matrix(30.0, centre) @ [*centre, 1], centre)
    # the turn is counter-clockwise on the screen, as OpenCV's: the point right of the
    # centre goes up
    up = real_photos.turn_matrix(90.0, centre) @ [centre[0] + 10, centre[1], 1]
    np.testing.assert_allclose(up, [centre[0], centre[1] - 10], atol=1e-9)

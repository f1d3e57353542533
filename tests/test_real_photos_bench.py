"""The real-photo benchmark (benchmarks/bench_real_photos.py): its frozen list and its scoring."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_sklearn.faces import _presence

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
PHOTOS = Path(__file__).resolve().parent / "data" / "photos"


@pytest.fixture(scope="module")
def bench():
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCHMARKS))
        import bench_real_photos
        import real_photos

        yield bench_real_photos, real_photos


def test_the_list_has_photos_with_and_without_faces_in_both_halves(bench):
    _, real_photos = bench
    listing = real_photos.manifest()
    photos = listing["photos"]
    assert len({p["name"] for p in photos}) == len(photos)
    with_faces = [p for p in photos if p["faces"]]
    assert len(with_faces) >= 10 and len(photos) - len(with_faces) >= 20
    for split in ("tune", "report"):
        half = [p for p in photos if p["split"] == split]
        assert any(p["faces"] for p in half) and any(not p["faces"] for p in half)
        assert any(p["category"].startswith("animal") for p in half)
    for photo in photos:
        assert photo["package"] in listing["packages"] and photo["licence"]
        assert all(len(box) == 4 and box[2] > 0 and box[3] > 0 for box in photo["faces"])


def test_a_detection_finds_a_face_when_each_centre_is_inside_the_other(bench):
    bench_real_photos, _ = bench
    face = (100, 100, 50, 60)
    assert bench_real_photos.finds((90, 80, 80, 80), face)  # a looser, FER2013-like frame
    assert not bench_real_photos.finds((0, 0, 400, 400), face)  # the face is not its centre
    assert not bench_real_photos.finds((110, 110, 10, 10), face)  # inside, too small
    # each face found once; a second box on it is a false face, unless in an ignored region
    found, false = bench_real_photos.score_photo(
        [(90, 80, 80, 80), (95, 85, 70, 70), (400, 400, 30, 30), (10, 10, 20, 20)],
        [face], ignore=[(0, 0, 40, 40)])
    assert (found, false) == (1, 2)


def test_run_counts_false_faces_and_recall_with_and_without_the_second_look(bench, tmp_path):
    bench_real_photos, _ = bench
    wall = tmp_path / "wall.png"
    Image.fromarray(np.full((240, 320, 3), 90, np.uint8)).save(wall)
    photos = [
        {"name": "astronaut", "faces": [[174, 74, 100, 101]]},
        {"name": "cat", "faces": []},
        {"name": "wall", "faces": []},
    ]
    paths = {"astronaut": PHOTOS / "astronaut.jpg", "cat": PHOTOS / "chelsea_cat.jpg",
             "wall": wall}
    now = bench_real_photos.run(photos, paths, "blazeface")
    assert (now["found"], now["faces"], now["false_no_face"], now["photos_no_face"]) == (1, 1, 0, 2)
    before = bench_real_photos.run(photos, paths, "blazeface", look=False, min_score=0.5)
    assert before["false_no_face"] == 1 and before["detections"]["cat"][0]["score"] < 0.6
    assert _presence.SURE_SCORE == 0.66  # restored after the run without the look
    haar = bench_real_photos.run(photos, paths, "haar")
    assert haar["second_look"] is False and haar["detections"]["astronaut"][0]["score"] is None

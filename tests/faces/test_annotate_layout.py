"""annotate in crowds and on transparent photos: labels off other faces, transparency kept."""

import numpy as np
import pytest
from PIL import Image

from fer_sklearn.faces import annotate, save_annotated
from fer_sklearn.faces._annotate import place_label

from .._photos import real_photo


def _covers(rect, box):
    return (min(rect[2], box[2]) > max(rect[0], box[0])
            and min(rect[3], box[3]) > max(rect[1], box[1]))


def _label_pixels(drawn, photo):
    """Where the annotation changed the photo."""
    return np.any(drawn != photo, axis=2)


def test_a_label_goes_where_it_covers_no_other_face():
    face, above, below = (100, 100, 160, 160), (100, 30, 160, 95), (100, 165, 160, 240)
    # above is taken by another face: below it goes
    assert place_label(face, (50, 15), [above], [], 400, 300) == (100, 160, 150, 175)
    # above and below taken: beside, on the right
    rect = place_label(face, (50, 15), [above, below], [], 400, 300)
    assert rect == (160, 100, 210, 115)
    # a label already placed counts too
    assert not _covers(place_label(face, (50, 15), [], [(90, 80, 170, 100)], 400, 300),
                       (90, 80, 170, 100))
    # at the top edge of the photo a label slides down into it, never out of it
    assert place_label((10, 0, 60, 50), (40, 12), [], [], 100, 100)[1] >= 0


def test_labels_in_a_row_of_touching_faces_cover_none_of_the_others():
    photo = real_photo("astronaut.jpg")
    # four faces in a 2x2 grid whose labels cannot go above or below their own box freely
    boxes = [(40, 60, 200, 200), (240, 60, 200, 200), (40, 262, 200, 200), (240, 262, 200, 200)]
    faces = [{"box": b, "emotion": e, "scores": {e: 0.9}, "score": 0.97}
             for b, e in zip(boxes, ("happy", "sad", "neutral", "surprise"))]
    drawn = annotate(photo, faces)
    changed = _label_pixels(drawn, photo)
    line = max(2, round(512 / 200))
    for x, y, w, h in boxes:  # no label inside another face's box: only its own outline
        inner = changed[y + line + 1:y + h - line - 1, x + line + 1:x + w - line - 1]
        # the box's own label may sit inside it (the last resort); others may not
        assert inner.mean() < 0.08
    # every label is drawn: each face's colour appears as a filled block
    for colour in ((250, 200, 0), (40, 110, 230), (200, 200, 200), (250, 120, 0)):
        assert (np.all(drawn == colour, axis=2)).sum() > 200


def _transparent_astronaut():
    """The astronaut with its left half transparent (black under the transparency)."""
    rgba = np.dstack([real_photo("astronaut.jpg"), np.full((512, 512), 255, np.uint8)])
    rgba[:, :256] = (0, 0, 0, 0)
    return rgba


def test_transparency_is_flattened_on_white_in_the_array_and_kept_in_a_png(tmp_path):
    rgba = _transparent_astronaut()
    faces = [{"box": (300, 100, 120, 120), "emotion": "happy", "scores": {"happy": 0.8}}]
    png, jpg = tmp_path / "a.png", tmp_path / "a.jpg"
    drawn = annotate(rgba, faces, out=png)
    assert drawn.shape == (512, 512, 3)
    assert (drawn[200:, :200] == 255).all()  # transparent: white, not the black under it
    np.testing.assert_array_equal(drawn[300:, 300:], rgba[300:, 300:, :3])  # opaque: as it was
    saved = Image.open(png)
    assert saved.mode == "RGBA"
    alpha = np.asarray(saved)[..., 3]
    assert (alpha[200:, :200] == 0).all() and (alpha[:, 300:] == 255).all()
    np.testing.assert_array_equal(np.asarray(saved)[..., :3][:, 256:], drawn[:, 256:])
    annotate(rgba, faces, out=jpg)  # no alpha in a JPEG: flattened on white
    assert Image.open(jpg).mode == "RGB" and np.asarray(Image.open(jpg))[300:, :200].min() > 240
    # a PIL image, and a BGR array, the same way
    np.testing.assert_array_equal(annotate(Image.fromarray(rgba), faces), drawn)
    bgra = rgba[..., [2, 1, 0, 3]]
    np.testing.assert_array_equal(annotate(bgra, faces, color="bgr"), drawn)


def test_save_annotated_keeps_a_transparent_png_transparent(tmp_path):
    path = tmp_path / "photos" / "logo.png"
    path.parent.mkdir()
    Image.fromarray(_transparent_astronaut()).save(path)
    records = [{"file": str(path), "status": "ok", "error": None,
                "faces": [{"box": (300, 100, 120, 120), "emotion": "sad"}]}]
    (record,) = save_annotated(records, tmp_path / "out")
    copy = Image.open(record["annotated"])
    assert copy.mode == "RGBA" and np.asarray(copy)[300, 100, 3] == 0


@pytest.mark.parametrize("bad", [{"emotion": "happy"}, {"box": (1, 2, 3)}])
def test_a_face_without_a_box_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="needs a 'box'"):
        annotate(real_photo("astronaut.jpg"), [bad])

"""Tests of EmotionRecognizer, iter_face_rows and annotate."""

import csv
import inspect
import itertools
import json

import joblib
import numpy as np
import pytest
from PIL import Image

from fer_sklearn import (
    EMOTIONS,
    EmotionRecognizer,
    load_pretrained,
    make_faces,
    save_model,
)
from fer_sklearn.datasets import compose_photo
from fer_sklearn.faces import annotate, crop_face, save_annotated
from fer_sklearn.io import read_image
from fer_sklearn.photos import ROW_FIELDS, face_rows, iter_face_rows, write_face_rows

from .._photos import cascade_or_skip, composed_photos, fer_faces, matches, tiny_model

# compares predicted numbers: .ci/run runs it again under forced bf16 and int8
pytestmark = pytest.mark.precision


@pytest.fixture(autouse=True)
def _needs_cascade():
    cascade_or_skip()


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def drawn():
    return make_faces(60, random_state=2)


@pytest.fixture(scope="module")
def photo_files(drawn, tmp_path_factory):
    """Three photos (1, 2 and 0 faces), an unreadable file and a missing one."""
    folder = tmp_path_factory.mktemp("photos")
    X, _ = drawn
    paths = []
    for i, faces in enumerate([X[:1], X[1:3], X[:0]]):
        photo = (compose_photo(faces, random_state=i)[0] if len(faces)
                 else np.full((240, 320, 3), 90, np.uint8))
        paths.append(folder / f"photo{i}.png")
        Image.fromarray(photo).save(paths[-1])
    (folder / "broken.jpg").write_bytes(b"\x00 not an image")
    return paths + [folder / "broken.jpg", folder / "missing.png"]


class CountingModel:
    """Wraps a model, counting predict_proba calls and the largest batch."""

    def __init__(self, model):
        self.model, self.calls, self.largest = model, 0, 0
        self.classes_ = model.classes_

    def predict_proba(self, X):
        self.calls += 1
        self.largest = max(self.largest, len(X))
        return self.model.predict_proba(X)


def test_analyze_reports_box_emotion_and_scores_of_each_face(model, drawn):
    X, _ = drawn
    photo, boxes = compose_photo(X[:2], random_state=1)
    faces = EmotionRecognizer(model).analyze(photo)
    assert len(faces) == 2
    for face in faces:
        assert set(face) == {"box", "score", "emotion", "scores"}
        assert isinstance(face["score"], float) and 0.5 < face["score"] <= 1.0
        assert any(matches(t, face["box"]) for t in boxes)
        assert list(face["scores"]) == list(EMOTIONS)
        assert sum(face["scores"].values()) == pytest.approx(1.0, abs=1e-5)
        assert face["emotion"] == max(face["scores"], key=face["scores"].get)


def _model_on_crops(model, photo, faces, margin=0.0):
    gray = read_image(photo)
    crops = np.stack([crop_face(gray, f["box"], margin=margin) for f in faces])
    return [EMOTIONS[c] for c in model.predict(crops)], model.predict_proba(crops)


@pytest.mark.fer2013
def test_emotions_equal_the_model_on_the_crops_of_fer2013_photos(model):
    X, _ = fer_faces()
    recognizer = EmotionRecognizer(model)
    n_faces = 0
    for photo, _, _ in composed_photos(X, 8, seed=0):
        faces = recognizer.analyze(photo)
        if faces:
            emotions, proba = _model_on_crops(model, photo, faces)
            assert [f["emotion"] for f in faces] == emotions
            got = np.array([[f["scores"][e] for e in EMOTIONS] for f in faces])
            np.testing.assert_allclose(got, proba, rtol=1e-5, atol=1e-6)
            n_faces += len(faces)
    assert n_faces >= 8  # 17 faces in these 8 photos; 12 are found


@pytest.mark.parametrize("detector", ["blazeface", "haar"])
def test_accepts_path_pil_rgb_bgr_and_gray(model, drawn, tmp_path, detector):
    photo, _ = compose_photo(drawn[0][:2], random_state=3)
    path = tmp_path / "p.png"
    Image.fromarray(photo).save(path)
    expected = EmotionRecognizer(model, detector=detector).analyze(photo)
    assert expected
    for image, color in [(path, "rgb"), (str(path), "rgb"), (Image.open(path), "rgb"),
                         (photo[..., ::-1], "bgr")]:
        assert EmotionRecognizer(model, color=color, detector=detector).analyze(image) == expected
    # the cascade reads gray, so a gray copy gives the same faces; BlazeFace reads colour
    on_gray = EmotionRecognizer(model, detector=detector).analyze(read_image(photo))
    if detector == "haar":
        assert on_gray == expected
    else:
        assert all(matches(e["box"], g["box"]) for e, g in zip(expected, on_gray, strict=True))


def test_detect_false_treats_the_image_as_one_face(model, drawn):
    X, _ = drawn
    faces = EmotionRecognizer(model).analyze(X[5], detect=False)
    assert [f["box"] for f in faces] == [(0, 0, 48, 48)]
    expected = model.predict_proba(X[5:6])[0]
    np.testing.assert_allclose([faces[0]["scores"][e] for e in EMOTIONS], expected, rtol=1e-5)
    # a non-square image is stretched to the crop size
    wide = EmotionRecognizer(model).analyze(np.zeros((30, 60), np.uint8), detect=False)
    assert wide[0]["box"] == (0, 0, 60, 30)


def test_min_score_keeps_the_faces_scoring_above_it(model, drawn):
    photo, _ = compose_photo(drawn[0][:2], random_state=1)
    faces = EmotionRecognizer(model, min_score=0.3).analyze(photo)
    assert len(faces) >= 2
    cut = float(np.median([f["score"] for f in faces]))
    kept = EmotionRecognizer(model, min_score=cut).analyze(photo)
    # the same faces (a box may move by a pixel or two: weighted NMS merges fewer anchors)
    assert sorted(f["score"] for f in kept) == pytest.approx(
        sorted(f["score"] for f in faces if f["score"] > cut))
    assert all(any(matches(f["box"], g["box"]) for g in faces) for f in kept)
    assert EmotionRecognizer(model, min_score=0.999999).analyze(photo) == []


def test_the_haar_cascade_and_no_detection_report_no_detection_score(model, drawn):
    photo, _ = compose_photo(drawn[0][:1], random_state=0)
    faces = EmotionRecognizer(model, detector="haar").analyze(photo)
    assert faces and all(f["score"] is None for f in faces)
    assert EmotionRecognizer(model).analyze(drawn[0][0], detect=False)[0]["score"] is None


def test_no_face_gives_an_empty_list(model):
    assert EmotionRecognizer(model).analyze(np.full((200, 300), 128, np.uint8)) == []


def test_integer_and_string_classes_are_reported_by_name(model, drawn):
    X, y = drawn
    assert model.classes_.dtype.kind == "i"
    from fer_sklearn import make_emotion_pipeline

    named = make_emotion_pipeline(max_epochs=1, module__width=4, module__depth=1,
                                  validation_fraction=None, random_state=0)
    named.fit(X, np.array([EMOTIONS[c].upper() for c in y]))
    for clf in (model, named):
        face = EmotionRecognizer(clf).analyze(X[0], detect=False)[0]
        assert face["emotion"] in EMOTIONS and set(face["scores"]) == set(EMOTIONS)


def test_model_by_path_and_lazy_pretrained(model, tmp_path, monkeypatch, drawn):
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    face = EmotionRecognizer(str(path)).analyze(drawn[0][0], detect=False)[0]
    assert face == EmotionRecognizer(model).analyze(drawn[0][0], detect=False)[0]
    calls = []
    monkeypatch.setattr("fer_sklearn.photos._recognizer.resolve_model",  # the shipped default
                        lambda *args, **kwargs: calls.append(1) or model)
    recognizer = EmotionRecognizer()
    assert calls == []  # nothing is loaded before the first analysis
    recognizer.analyze(drawn[0][0], detect=False)
    recognizer.analyze(drawn[0][1], detect=False)
    assert calls == [1]


def test_a_model_file_of_save_model(model, tmp_path, drawn):
    path = save_model(model, tmp_path / "model.safetensors")
    face = EmotionRecognizer(str(path)).analyze(drawn[0][0], detect=False)[0]
    assert face == EmotionRecognizer(model).analyze(drawn[0][0], detect=False)[0]


def test_a_shipped_model_by_name(drawn):
    face = drawn[0][0]
    got = EmotionRecognizer("fast").analyze(face, detect=False)[0]
    want = EmotionRecognizer(load_pretrained("fast")).analyze(face, detect=False)[0]
    assert got == want
    with pytest.raises(ValueError, match="no model file at huge, and 'huge' is not the name "
                                         "of a shipped model .*fast"):
        EmotionRecognizer("huge").analyze(face, detect=False)


class _NineClasses:
    classes_ = np.array([0, 9])

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


@pytest.mark.parametrize("model_, error, match", [
    ("no/such/model.joblib", ValueError, "no model file at no/such/model.joblib"),
    (object(), TypeError, "predict_proba and classes_"),
    (_NineClasses(), ValueError, "the model's classes are not emotions: 9 is not a FER2013 code"),
])
def test_bad_models(model_, error, match):
    with pytest.raises(error, match=match):
        EmotionRecognizer(model_).analyze(np.zeros((48, 48)), detect=False)


def test_bad_images_and_parameters(model):
    recognizer = EmotionRecognizer(model)
    with pytest.raises(TypeError, match="must be a path, a PIL image or an array"):
        recognizer.analyze(42)
    with pytest.raises(ValueError, match="no such file"):
        recognizer.analyze("nowhere.png")
    with pytest.raises(ValueError, match="margin == 5, must be <= 2"):
        EmotionRecognizer(model, margin=5).analyze(np.zeros((48, 48)))
    with pytest.raises(ValueError, match="batch_size == 0, must be >= 1"):
        recognizer.analyze_many(["a.png"], batch_size=0)  # at the call, not at next()
    with pytest.raises(TypeError, match="wrap a single path in a list"):
        recognizer.analyze_many("a.png")
    with pytest.raises(ValueError, match="n_jobs == 0, must be >= 1"):
        EmotionRecognizer(model, n_jobs=0).analyze_many(["a.png"])
    with pytest.raises(ValueError, match="min_score == 1, must be < 1"):
        EmotionRecognizer(model, min_score=1).analyze(np.zeros((48, 48)))
    with pytest.raises(TypeError, match="min_score must be an instance of"):
        EmotionRecognizer(model, min_score="high").analyze(np.zeros((48, 48)))


# ---------------------------------------------------------------- analyze_many
def test_analyze_many_reports_every_file_in_order(model, photo_files):
    records = list(EmotionRecognizer(model).analyze_many(photo_files, batch_size=2))
    assert [r["file"] for r in records] == [str(p) for p in photo_files]
    assert [r["status"] for r in records] == ["ok", "ok", "no_face", "error", "error"]
    assert [len(r["faces"]) for r in records] == [1, 2, 0, 0, 0]
    assert "not a readable image" in records[3]["error"]
    assert "no such file" in records[4]["error"]
    assert records[0]["error"] is None and records[2]["error"] is None
    # same faces as one by one
    assert records[1]["faces"] == EmotionRecognizer(model).analyze(photo_files[1])


@pytest.mark.parametrize("detector", ["blazeface", "haar"])
def test_analyze_many_in_threads_gives_the_serial_records(model, photo_files, detector,
                                                           monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    threads = []
    original = ThreadPoolExecutor.map

    def map_and_record(self, *args, **kwargs):
        threads.append(self._max_workers)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ThreadPoolExecutor, "map", map_and_record)
    files = photo_files * 3  # 15 photos, errors among them, in batches of 4
    serial = list(EmotionRecognizer(model, detector=detector, n_jobs=1)
                  .analyze_many(files, batch_size=4))
    assert threads == []
    threaded = list(EmotionRecognizer(model, detector=detector, n_jobs=3)
                    .analyze_many(files, batch_size=4))
    assert threads == [3] * 4  # each batch read by 3 threads
    assert threaded == serial


def test_analyze_many_batches_and_streams(model, drawn):
    X, _ = drawn
    counting = CountingModel(model)
    pulled = []

    def photos():
        for i in itertools.count():
            pulled.append(i)
            yield X[i % len(X)]

    stream = EmotionRecognizer(counting).analyze_many(photos(), batch_size=4, detect=False)
    assert inspect.isgenerator(stream)
    first = list(itertools.islice(stream, 10))
    assert len(first) == 10 and all(r["status"] == "ok" for r in first)
    assert len(pulled) <= 12  # three batches of 4: never reads far ahead
    assert counting.calls == 3 and counting.largest == 4


# ---------------------------------------------------------------- rows, annotate
def test_iter_face_rows(model, photo_files):
    rows = list(iter_face_rows(photo_files, EmotionRecognizer(model), batch_size=3))
    assert all(tuple(row) == ROW_FIELDS for row in rows)
    assert [(r["file"], r["face"], r["status"]) for r in rows] == [
        (str(photo_files[0]), 0, "ok"), (str(photo_files[1]), 0, "ok"),
        (str(photo_files[1]), 1, "ok"), (str(photo_files[2]), None, "no_face"),
        (str(photo_files[3]), None, "error"), (str(photo_files[4]), None, "error"),
    ]
    ok = rows[0]
    assert 0.5 < ok["score"] <= 1.0 and rows[3]["score"] is None
    assert sum(ok[e] for e in EMOTIONS) == pytest.approx(1.0, abs=1e-5)
    assert ok["emotion"] == max(EMOTIONS, key=ok.get) and ok["w"] > 0
    assert rows[4]["x"] is None and rows[4]["error"]
    with pytest.raises(TypeError, match="must be an EmotionRecognizer"):
        iter_face_rows(photo_files, model)


def test_iter_face_rows_without_detection(model, drawn, tmp_path):
    X, _ = drawn
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"face{i}.png")
        Image.fromarray(X[i]).save(paths[-1])
    rows = list(iter_face_rows(paths, EmotionRecognizer(model), detect=False))
    assert [(r["face"], r["x"], r["y"], r["w"], r["h"], r["score"], r["status"])
            for r in rows] == [(0, 0, 0, 48, 48, None, "ok")] * 3
    assert [r["emotion"] for r in rows] == [EMOTIONS[c] for c in model.predict(X[:3])]


def test_annotate_draws_boxes_and_labels(model, drawn, tmp_path):
    photo, _ = compose_photo(drawn[0][:1], random_state=0)
    faces = EmotionRecognizer(model).analyze(photo)
    assert faces
    out = tmp_path / "annotated.png"
    drawn_photo = annotate(photo, faces, out=out)
    assert drawn_photo.shape == photo.shape and drawn_photo.dtype == np.uint8
    np.testing.assert_array_equal(np.asarray(Image.open(out)), drawn_photo)
    x, y, w, h = faces[0]["box"]
    changed = np.any(drawn_photo != photo, axis=2)
    assert changed[y + h // 2, x]  # the left edge of the box
    assert changed[:y, x:x + w].any() or changed[y + h:, x:x + w].any()  # the label
    assert not changed[y + h // 2 - 5:y + h // 2 + 5, x + w // 2 - 5:x + w // 2 + 5].any()
    assert annotate(read_image(photo), faces).shape == photo.shape  # gray in, RGB out
    np.testing.assert_array_equal(annotate(photo[..., ::-1], faces, color="bgr"), drawn_photo)
    np.testing.assert_array_equal(annotate(photo, []), photo)
    with pytest.raises(ValueError, match="needs a 'box'"):
        annotate(photo, [{"emotion": "happy"}])
    # the detection score is in the label: a longer filled label than without it
    unscored = annotate(photo, [dict(faces[0], score=None)])
    assert faces[0]["score"] is not None
    assert np.any(unscored != photo, axis=2).sum() < changed.sum()


def test_classifies_with_n_threads_and_restores_the_setting(model, drawn):
    import torch

    before = torch.get_num_threads()
    seen = []

    class Spy(CountingModel):
        def predict_proba(self, X):
            seen.append(torch.get_num_threads())
            return super().predict_proba(X)

    EmotionRecognizer(Spy(model), n_threads=1).analyze(drawn[0][0], detect=False)
    assert seen == [1] and torch.get_num_threads() == before
    with pytest.raises(ValueError, match="n_threads == 0, must be >= 1"):
        EmotionRecognizer(model, n_threads=0).analyze(drawn[0][0], detect=False)


def _record(file, status="ok", faces=()):
    return {"file": str(file), "status": status, "error": None if status != "error" else "bad",
            "faces": [{"box": b, "emotion": "happy", "scores": {"happy": 0.1234567}}
                      for b in faces]}


def test_write_face_rows_as_csv_or_json(tmp_path):
    records = [_record("a.png", faces=[(1, 2, 3, 4), (5, 6, 7, 8)]), _record("b.png", "no_face")]
    assert write_face_rows(face_rows(records), tmp_path / "rows.csv") == 3
    assert write_face_rows(face_rows(records), tmp_path / "rows.json") == 3
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert [(r["file"], r["face"], r["x"], r["happy"]) for r in rows] == [
        ("a.png", 0, 1, 0.123457), ("a.png", 1, 5, 0.123457), ("b.png", None, None, None)]
    with open(tmp_path / "rows.csv", newline="") as f:
        lines = list(csv.reader(f))
    assert tuple(lines[0]) == ROW_FIELDS and lines[3][1] == "" and lines[1][2] == "1"
    with pytest.raises(ValueError, match="output must end in .csv or .json, got rows.txt"):
        write_face_rows([], "rows.txt")


def test_save_annotated_names_copies_and_never_replaces_a_photo(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        Image.fromarray(np.full((40, 40, 3), 90, np.uint8)).save(tmp_path / folder / "x.png")
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(tmp_path / "a" / "y.gif")
    records = [_record(tmp_path / "a" / "x.png", faces=[(5, 5, 20, 20)]),
               _record(tmp_path / "b" / "x.png", "no_face"), _record(tmp_path / "a" / "y.gif"),
               _record(tmp_path / "a" / "broken.png", "error")]
    out = save_annotated(records, tmp_path / "a")  # the folder of the photos themselves
    assert [r["annotated"] and r["annotated"].name for r in out] == [
        "x-1.png", "x-2.png", "y.png", None]
    unchanged = np.asarray(Image.open(tmp_path / "a" / "x-2.png"))
    np.testing.assert_array_equal(unchanged, np.asarray(Image.open(tmp_path / "b" / "x.png")))
    assert (np.asarray(Image.open(tmp_path / "a" / "x.png")) == 90).all()

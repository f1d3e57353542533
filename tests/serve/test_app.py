"""``fer-sklearn serve``: every endpoint with good and hostile uploads, the 503 of a full queue.

One shipped ``fast`` model is loaded for the module; the server runs under uvicorn on
127.0.0.1 (a free port, in a thread) for the loopback tests, and through FastAPI's
TestClient for the rest. The page in a browser: ``test_serve_page.py``. Budget: about
20 s on 2 CPU cores.
"""

import contextlib
import io
import socket
import threading
import time
import warnings

import numpy as np
import pytest
from PIL import Image

from fer_sklearn import EMOTIONS, EmotionRecognizer, load_pretrained, make_faces
from fer_sklearn.cli import main

fastapi = pytest.importorskip("fastapi", reason="needs the serve extra: pip install "
                                                "'fer-sklearn[serve]'")
httpx = pytest.importorskip("httpx", reason="needs httpx (the test extra)")
uvicorn = pytest.importorskip("uvicorn", reason="needs the serve extra")
with warnings.catch_warnings():  # Starlette would rather have httpx2, httpx is fine
    warnings.filterwarnings("ignore", "Using `httpx`")
    from fastapi.testclient import TestClient  # noqa: E402 - after the skips above

from fer_sklearn.serve import create_app  # noqa: E402

from .._serving import PHOTO, photo_file, png, serving  # noqa: E402

MAX_BYTES = 2**20


@pytest.fixture(scope="module")
def model():
    return load_pretrained("fast")


@pytest.fixture(scope="module")
def app(model):
    return create_app(model, name="fast", source="pretrained", workers=2, queue=4,
                      max_upload_bytes=MAX_BYTES, max_pixels=4_000_000)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def live(app):
    with serving(app) as url:
        yield url


def assert_still_serving(client):
    """The server answers, and every place a request took was given back."""
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["in_progress"] == 0
    assert client.post("/v1/analyze", files=photo_file()).status_code == 200


# ---------------------------------------------------------------------- good input
def test_analyze_over_loopback_gives_what_the_recognizer_gives(live, model):
    assert live.startswith("http://127.0.0.1:")
    answer = httpx.post(f"{live}/v1/analyze", files=photo_file(), timeout=60)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["width"], result["height"]) == (512, 512)
    expected = EmotionRecognizer(model, n_jobs=1).analyze(PHOTO)  # the file, as the server reads it
    assert len(result["faces"]) == len(expected) >= 1
    for face, truth in zip(result["faces"], expected):
        assert tuple(face["box"][k] for k in "xywh") == truth["box"]
        assert face["emotion"] == truth["emotion"]
        assert list(face["probabilities"]) == sorted(EMOTIONS)  # the model's classes_
        np.testing.assert_allclose(list(face["probabilities"].values()),
                                   list(truth["scores"].values()), atol=1e-5)
        assert face["score"] == pytest.approx(truth["score"], abs=1e-6)
        assert 0.5 <= face["score"] <= 1  # BlazeFace's probability, over the default min_score


def test_predict_labels_face_crops_as_the_model_does(client, model):
    crops, _ = make_faces(3, random_state=0)
    answer = client.post("/v1/predict",
                         files=[("files", (f"{i}.png", png(c), "image/png")) for i, c in
                                enumerate(crops)])
    assert answer.status_code == 200, answer.text
    predictions = answer.json()["predictions"]
    assert [p["label"] for p in predictions] == list(model.predict(crops))
    np.testing.assert_allclose([list(p["probabilities"].values()) for p in predictions],
                               model.predict_proba(crops), atol=1e-5)


def test_uploads_are_read_as_files_are(client):
    """EXIF orientation applied; a 16-bit crop scaled to 8 bits (not clipped white)."""
    portrait = Image.open(PHOTO).crop((0, 0, 400, 512))  # 400 wide, 512 high
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: to be turned a quarter clockwise
    buffer = io.BytesIO()
    portrait.transpose(Image.Transpose.ROTATE_90).save(buffer, format="JPEG", exif=exif)
    result = client.post("/v1/analyze", files=photo_file(buffer.getvalue())).json()
    assert (result["width"], result["height"]) == (400, 512)
    # her face where it is in the upright photo (166, 56), found with BlazeFace's confidence
    assert any(abs(f["box"]["x"] - 166) <= 6 and abs(f["box"]["y"] - 56) <= 6 and f["score"] > 0.9
               for f in result["faces"]), result["faces"]
    crop = make_faces(1, random_state=1)[0][0]
    deep = io.BytesIO()
    Image.fromarray(crop.astype(np.uint16) * 257).save(deep, format="PNG")
    answers = [client.post("/v1/predict", files={"files": ("c.png", data, "image/png")}).json()
               for data in (png(crop), deep.getvalue())]
    assert answers[0] == answers[1]


def test_photos_are_decoded_in_memory_where_there_is_no_memfd(client, monkeypatch):
    on_file = client.post("/v1/analyze", files=photo_file()).json()
    monkeypatch.setattr("fer_sklearn.serve._app.memory_file",
                        lambda data: contextlib.nullcontext(None))
    in_memory = client.post("/v1/analyze", files=photo_file()).json()
    assert (in_memory["width"], in_memory["height"]) == (on_file["width"], on_file["height"])
    assert [f["emotion"] for f in in_memory["faces"]] == [f["emotion"] for f in on_file["faces"]]
    for face, truth in zip(in_memory["faces"], on_file["faces"]):
        assert max(abs(face["box"][k] - truth["box"][k]) for k in "xywh") <= 4


def test_models_health_and_schema(client):
    models = client.get("/v1/models").json()
    assert models["models"] == [{"name": "fast", "source": "pretrained",
                                 "emotions": sorted(EMOTIONS), "input_size": 48}]
    assert models["detector"] == "blazeface"
    assert client.get("/healthz").json() == {"status": "ok", "in_progress": 0, "capacity": 6}
    schema = client.get("/openapi.json").json()
    assert {"/v1/analyze", "/v1/predict", "/v1/models", "/healthz"} <= set(schema["paths"])
    # FastAPI's interactive pages load their files from a CDN: not served
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404


def test_page_loads_nothing_from_elsewhere(client):
    page = client.get("/")
    assert page.status_code == 200 and 'id="photo"' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    assert not any(f'{attr}="http' in page.text or f"{attr}='http" in page.text
                   for attr in ("src", "href"))


def test_min_score_is_the_recognizers(client, model):
    score = client.post("/v1/analyze", files=photo_file()).json()["faces"][0]["score"]
    strict = TestClient(create_app(model, min_score=min(0.999, score + 1e-3)))
    assert strict.get("/v1/models").json()["min_score"] == min(0.999, score + 1e-3)
    # above the short-range network's score, the full-range one looks too, and reports the
    # face only with a score of its own above min_score
    faces = strict.post("/v1/analyze", files=photo_file()).json()["faces"]
    assert all(face["score"] > score + 1e-3 for face in faces)
    assert TestClient(create_app(model, min_score=0.999)).post(
        "/v1/analyze", files=photo_file()).json()["faces"] == []
    assert client.get("/v1/models").json()["min_score"] == EmotionRecognizer().min_score
    assert TestClient(create_app(model, detector="haar")).get("/v1/models").json()[
        "min_score"] is None


# ---------------------------------------------------------------------- bad input
def bomb():
    """A PNG of a few kB that decodes to 25 million pixels."""
    buffer = io.BytesIO()
    Image.new("1", (5000, 5000)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("data, status, message", [
    (b"", 400, "empty"),
    (PHOTO.read_bytes()[:4000], 400, "not a readable image"),
    (b"%PDF-1.4 not a photo" * 10, 415, "not an image in a supported format"),
    (bomb(), 413, "decompression bomb"),
    (b"\xff" * (MAX_BYTES + 1), 413, f"limit of {MAX_BYTES} bytes"),
], ids=["empty", "truncated", "not-an-image", "bomb", "huge"])
def test_bad_photo_gets_a_4xx_and_the_server_goes_on(client, data, status, message):
    answer = client.post("/v1/analyze", files=photo_file(data))
    assert answer.status_code == status
    assert message in answer.json()["detail"]
    assert_still_serving(client)


@pytest.mark.parametrize("path, files, expected", [
    ("/v1/analyze", {"photo": ("a.jpg", b"x", "image/jpeg")}, "'file'"),
    ("/v1/predict", {"file": ("a.png", b"x", "image/png")}, "'files'"),
    ("/v1/analyze", None, "'file'"),
])
def test_wrong_field_names_get_422_naming_the_field(client, path, files, expected):
    answer = client.post(path, files=files) if files else client.post(path, json={"file": 1})
    assert answer.status_code == 422
    assert expected in answer.json()["detail"]
    assert_still_serving(client)


def test_a_bad_crop_is_named_and_too_many_are_refused(client):
    crop = png(make_faces(1, random_state=0)[0][0])
    answer = client.post("/v1/predict", files=[("files", ("a.png", crop, "image/png")),
                                               ("files", ("b.png", b"garbage", "image/png"))])
    assert answer.status_code == 415 and answer.json()["detail"].startswith("crop 1 ")
    answer = client.post("/v1/predict", files=[("files", ("a.png", crop, "image/png"))] * 65)
    assert answer.status_code == 413 and "limit of 64" in answer.json()["detail"]
    assert_still_serving(client)


def test_huge_body_sent_in_chunks_is_cut_off(live):
    def chunks():  # the start of a valid upload, then more bytes than the limit, no length
        yield (b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
               b"Content-Type: image/jpeg\r\n\r\n")
        for _ in range(2 * MAX_BYTES // 65536):
            yield b"\0" * 65536

    headers = {"content-type": "multipart/form-data; boundary=xyz"}
    answer = httpx.post(f"{live}/v1/analyze", content=chunks(), headers=headers, timeout=60)
    assert answer.status_code == 413 and "limit of" in answer.json()["detail"]
    assert httpx.get(f"{live}/healthz").json()["in_progress"] == 0


def test_create_app_checks_its_options(model):
    with pytest.raises(ValueError, match="workers"):
        create_app(model, workers=0)
    with pytest.raises(ValueError, match="queue"):
        create_app(model, queue=-1)


# ---------------------------------------------------------------------- a full queue
class Blocking:
    """The model, but ``predict_proba`` waits for ``release`` once ``armed``."""

    def __init__(self, model):
        self.model, self.classes_ = model, model.classes_
        self.armed, self.entered, self.release = False, threading.Event(), threading.Event()

    def predict_proba(self, X):
        if self.armed:
            self.entered.set()
            assert self.release.wait(60)
        return self.model.predict_proba(X)


@pytest.mark.parametrize("queue", [0, 1])
def test_a_full_queue_answers_503_at_once(model, queue):
    blocking = Blocking(model)
    crop = {"files": ("a.png", png(make_faces(1, random_state=0)[0][0]), "image/png")}
    with serving(create_app(blocking, workers=1, queue=queue)) as url:
        blocking.armed = True
        with httpx.Client(base_url=url, timeout=60) as first, httpx.Client(
                base_url=url, timeout=60) as second:
            answers = []
            held = [threading.Thread(target=lambda c=c: answers.append(c.post("/v1/predict",
                                                                               files=crop)))
                    for c in [first, second][:1 + queue]]
            held[0].start()
            assert blocking.entered.wait(30)
            for thread in held[1:]:  # waits in the queue
                thread.start()
            deadline = time.monotonic() + 30
            while (httpx.get(f"{url}/healthz").json()["in_progress"] < 1 + queue
                   and time.monotonic() < deadline):
                time.sleep(0.02)
            refused = httpx.post(f"{url}/v1/predict", files=crop, timeout=10)
            assert refused.status_code == 503 and "busy" in refused.json()["detail"]
            assert refused.headers["retry-after"] == "1"
            blocking.release.set()
            for thread in held:
                thread.join(60)
        assert [a.status_code for a in answers] == [200] * (1 + queue)
        assert httpx.post(f"{url}/v1/predict", files=crop, timeout=60).status_code == 200


# ---------------------------------------------------------------------- command line
def test_cli_names_the_extra_when_it_is_missing(monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "fer_sklearn.serve", None)
    assert main(["serve", "--pretrained", "fast"]) == 2
    assert "pip install 'fer-sklearn[serve]'" in capsys.readouterr().err


def test_cli_refuses_an_unknown_model_and_bad_options(capsys):
    assert main(["serve", "--pretrained", "nope"]) == 2
    assert "no pretrained model named 'nope'" in capsys.readouterr().err
    assert main(["serve", "--model", "a.joblib", "--pretrained", "fast"]) == 2
    assert main(["serve", "--min-score", "1.5"]) == 2


def test_cli_serves_on_the_loopback(monkeypatch):
    calls = {}
    monkeypatch.setattr("fer_sklearn.serve.run_server",
                        lambda app, **kwargs: calls.update(app=app, **kwargs))
    assert main(["serve", "--pretrained", "fast", "--port", "8123", "--workers", "1"]) == 0
    assert (calls["host"], calls["port"]) == ("127.0.0.1", 8123)
    assert TestClient(calls["app"]).get("/v1/models").json()["models"][0]["name"] == "fast"


def test_a_body_that_does_not_arrive_gets_408_and_gives_its_place_back(model):
    with serving(create_app(model, workers=1, queue=0, read_timeout=0.5)) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:
            slow.sendall(b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                         b"Content-Type: multipart/form-data; boundary=xyz\r\n\r\n--xyz\r\n")
            answer = b""  # no more bytes are sent; the server answers, then closes
            while chunk := slow.recv(4096):
                answer += chunk
            answer = answer.decode()
        assert answer.startswith("HTTP/1.1 408") and "did not arrive within 0.5 s" in answer
        assert httpx.post(f"{url}/v1/analyze", files=photo_file(), timeout=60).status_code == 200

"""The FastAPI application: analysis of photos and face crops, and the web page."""

import numbers
from importlib import resources

import numpy as np
import python_multipart  # noqa: F401 - FastAPI reads uploads with it: missing, fail now
import uvicorn
from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from sklearn.utils import check_scalar

from ..photos import EmotionRecognizer
from ._limits import RequestLimits, WorkerPool
from ._saliency import saliency_grid
from ._schemas import Analysis, Health, Models, Predictions, Problem
from ._uploads import UploadError, decode_upload, memory_file, upload_size

# the page's script and style are inline, and it may fetch from this server only
_PAGE_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                "img-src blob: data:; connect-src 'self'; base-uri 'none'; form-action 'none'")
_FIELDS = {"/v1/analyze": "'file' (one photo)", "/v1/predict": "'files' (one or more face crops)"}
_ERRORS = {status: {"model": Problem} for status in (400, 408, 413, 415, 422, 503)}


class _Service:
    """What the endpoints share: the recognizer, the limits and the worker pool."""

    def __init__(self, recognizer, max_pixels, max_crops, pool):
        self.recognizer = recognizer
        self.max_pixels = max_pixels
        self.max_crops = max_crops
        self.pool = pool

    def _probabilities(self, face):
        return {name: round(p, 6) for name, p in face["scores"].items()}

    def analyze(self, data, explain=False):
        what = "the photo"
        width, height = upload_size(data, max_pixels=self.max_pixels, what=what)
        with memory_file(data) as path:
            image = decode_upload(data, max_pixels=self.max_pixels, what=what) if path is None \
                else path
            try:
                found = self.recognizer.analyze(image, explain=explain)
            except ValueError as exc:  # the library's reader refused the file: name no path
                raise UploadError(400, f"{what}: {str(exc).removeprefix(f'{path}: ')}") from None
        faces = []
        for face in found:
            x, y, w, h = face["box"]
            score = face.get("score")  # BlazeFace's probability; None for the Haar cascade
            faces.append({"box": {"x": x, "y": y, "w": w, "h": h},
                          "score": None if score is None else round(float(score), 6),
                          "emotion": face["emotion"],
                          "probabilities": self._probabilities(face)})
            if explain:
                faces[-1]["saliency"] = saliency_grid(face, self.recognizer.crop_size)
        return {"width": width, "height": height, "faces": faces}

    def predict(self, crops):
        if len(crops) > self.max_crops:
            raise UploadError(413, f"{len(crops)} crops in one request, over the server's "
                                   f"limit of {self.max_crops}; send them in several requests")
        pixels = [decode_upload(data, max_pixels=self.max_pixels, what=f"crop {i}")
                  for i, data in enumerate(crops)]
        records = self.recognizer.analyze_many(pixels, batch_size=len(pixels), detect=False)
        predictions = []
        for record in records:
            if record["status"] != "ok":
                raise UploadError(400, f"crop {len(predictions)}: {record['error']}")
            face = record["faces"][0]
            predictions.append({"label": face["emotion"],
                                "probabilities": self._probabilities(face)})
        return {"predictions": predictions}

    async def run(self, function, *args):
        try:
            return await self.pool.run(function, *args)
        except UploadError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        except (ValueError, TypeError) as exc:  # an image the recognizer cannot take
            raise HTTPException(400, str(exc)) from None


def _input_size(model):
    """Side of the images the model's pipeline resizes to (48 if it does not say)."""
    size = getattr(dict(getattr(model, "steps", [])).get("resize"), "size", None)
    return int(size) if size else 48


def create_app(model, *, name="model", source="file", detector="blazeface", min_score=None,
               workers=2, queue=16, max_upload_bytes=10 * 2**20, max_pixels=25_000_000,
               max_crops=64, read_timeout=30.0, n_threads=1):
    """The web application that answers emotions over HTTP, and its one-page UI.

    Parameters
    ----------
    model : estimator
        A fitted classifier of face crops with ``predict_proba`` and
        ``classes_`` (e.g. :func:`~fer_sklearn.load_pretrained`'s pipeline).
    name : str, default="model"
        The model's name in ``GET /v1/models``.
    source : {"pretrained", "file"}, default="file"
        Where the model came from, for ``GET /v1/models``.
    detector : {"blazeface", "haar"}, default="blazeface"
        The face detector (see :func:`~fer_sklearn.detect_faces`).
    min_score : float or None, default=None
        BlazeFace's smallest detection score of a face kept
        (:class:`~fer_sklearn.EmotionRecognizer`'s ``min_score``; None: its default).
    workers : int, default=2
        Analyses run at once, each on its own thread.
    queue : int, default=16
        Requests that may wait for a worker; past ``workers + queue``
        requests, the next gets 503 at once.
    max_upload_bytes : int, default=10 MiB
        Largest request body; a larger one gets 413 without being read.
    max_pixels : int, default=25,000,000
        Most pixels of an uploaded image (never more than Pillow's
        ``MAX_IMAGE_PIXELS``); a larger one gets 413 without being decoded.
    max_crops : int, default=64
        Most face crops in one ``POST /v1/predict``.
    read_timeout : float, default=30.0
        Seconds a request's body may take to arrive once the request has its
        place; a slower one gets 408 (a slow client cannot hold the places).
    n_threads : int or None, default=1
        PyTorch threads of each analysis (:class:`~fer_sklearn.EmotionRecognizer`'s
        ``n_threads``).

    Returns
    -------
    app : fastapi.FastAPI
        Endpoints ``POST /v1/analyze``, ``POST /v1/predict``, ``GET
        /v1/models``, ``GET /healthz``, the OpenAPI schema at
        ``/openapi.json`` and the page at ``/``; no interactive docs page
        (FastAPI's loads its files from a CDN). The model and the detector
        are loaded, and tried once, before it returns.
    """
    for value, label in ((workers, "workers"), (max_upload_bytes, "max_upload_bytes"),
                         (max_pixels, "max_pixels"), (max_crops, "max_crops")):
        check_scalar(value, label, numbers.Integral, min_val=1)
    check_scalar(queue, "queue", numbers.Integral, min_val=0)
    check_scalar(read_timeout, "read_timeout", numbers.Real, min_val=0,
                 include_boundaries="neither")
    options = {} if min_score is None else {"min_score": min_score}
    recognizer = EmotionRecognizer(model, crop_size=_input_size(model), detector=detector,
                                   n_threads=n_threads, n_jobs=1, **options)
    blank = np.zeros((64, 64, 3), dtype=np.uint8)
    recognizer.analyze(blank)  # loads the detector and checks the model, now
    recognizer.analyze(blank, detect=False)
    info = {"name": name, "source": source, "emotions": list(recognizer.emotions_),
            "input_size": recognizer.crop_size}
    pool = WorkerPool(workers, queue)
    service = _Service(recognizer, max_pixels, max_crops, pool)
    app = FastAPI(title="fer-sklearn", summary="Facial expressions (7 emotions) in photos",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.add_middleware(RequestLimits, max_bytes=max_upload_bytes, pool=pool,
                       read_timeout=read_timeout)
    app.exception_handler(RequestValidationError)(_invalid_request)
    page = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index():
        return HTMLResponse(page, headers={"Content-Security-Policy": _PAGE_POLICY,
                                           "X-Content-Type-Options": "nosniff"})

    @app.get("/healthz", response_model=Health)
    async def healthz():
        """The server is up; how many requests it holds."""
        return {"status": "ok", "in_progress": pool.admitted, "capacity": pool.capacity}

    @app.get("/v1/models", response_model=Models)
    async def models():
        """The model and detector this server answers with."""
        return {"models": [info], "detector": detector,
                "min_score": recognizer.min_score if detector == "blazeface" else None}

    # unset fields stay out: without ?explain=true the answer is as it always was
    @app.post("/v1/analyze", response_model=Analysis, responses=_ERRORS,
              response_model_exclude_unset=True)
    async def analyze(file: UploadFile = File(description="a photo (PNG, JPEG, ...)"),
                      explain: bool = Query(False, description="add each face's saliency map")):
        """The faces of a photo: box, detection score, and the probability of each emotion."""
        return await service.run(service.analyze, await file.read(), explain)

    @app.post("/v1/predict", response_model=Predictions, responses=_ERRORS)
    async def predict(files: list[UploadFile] = File(description="face crops, one per file")):
        """The emotion of each face crop (the whole image is the face; no detection)."""
        return await service.run(service.predict, [await f.read() for f in files])

    return app


async def _invalid_request(request: Request, exc: RequestValidationError):
    """422 naming the form field the endpoint expects, instead of pydantic's list."""
    wrong = sorted({str(e["loc"][-1]) for e in exc.errors()})
    expected = _FIELDS.get(request.url.path, "the documented fields")
    return JSONResponse(status_code=422, content={"detail": (
        f"{request.url.path} expects a multipart/form-data upload with the field {expected}; "
        f"missing or not a file: {', '.join(wrong)} (e.g. curl -F file=@photo.jpg)")})


def run_server(app, *, host="127.0.0.1", port=8000, sockets=None, log_level="info"):
    """Serve ``app`` with uvicorn until interrupted.

    Parameters
    ----------
    app : fastapi.FastAPI
        The application of :func:`create_app`.
    host : str, default="127.0.0.1"
        Interface to listen on; the default is reachable from this machine only.
    port : int, default=8000
        Port to listen on.
    sockets : list of socket.socket or None, default=None
        Already bound sockets to serve on instead of ``host`` and ``port``.
    log_level : str, default="info"
        Uvicorn's log level (``"warning"`` keeps it quiet).
    """
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level,
                                           server_header=False))
    server.run(sockets=sockets)

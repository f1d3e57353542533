"""Test helpers of ``fer_sklearn.serve``: a uvicorn server on the loopback, and uploads.

Import it after ``pytest.importorskip("uvicorn")``: it needs the serve extra.
"""

import contextlib
import io
import socket
import threading
import time
from pathlib import Path

import uvicorn
from PIL import Image

PHOTO = Path(__file__).parent / "data" / "photos" / "astronaut.jpg"


@contextlib.contextmanager
def serving(app):
    """``app`` under uvicorn on 127.0.0.1 (a free port) in a thread; yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def png(array):
    """The bytes of ``array`` as a PNG file."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def photo_file(data=None, field="file"):
    """The ``files`` of a request uploading ``data`` (the photo by default), under a hostile
    name."""
    return {field: ("../../etc/passwd", PHOTO.read_bytes() if data is None else data,
                    "image/jpeg")}

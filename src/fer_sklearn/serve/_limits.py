"""The server's bounds: request body size, and a worker pool that answers 503 when full."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

from starlette.exceptions import HTTPException


class WorkerPool:
    """``workers`` threads doing the analyses, and room for ``queue`` more requests waiting.

    A request holds a place from before its body is read until its answer is
    ready, so at most ``workers + queue`` uploads are in memory at once; when
    all places are taken, :meth:`admit` returns False and the request is
    answered 503 at once.
    """

    def __init__(self, workers, queue):
        self.workers = workers
        self.capacity = workers + queue
        self.admitted = 0  # only changed on the event loop's thread
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="fer-sklearn-serve")

    def admit(self):
        """Take a place if one is free; True when taken (give it back with :meth:`leave`)."""
        if self.admitted >= self.capacity:
            return False
        self.admitted += 1
        return True

    def leave(self):
        self.admitted -= 1

    async def run(self, function, *args):
        """``function(*args)`` on a worker thread, once one is free."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)


async def _send_json(send, status, detail, headers=()):
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """ASGI middleware: POST bodies over ``max_bytes`` get 413, and POSTs wait for a place.

    A body whose ``Content-Length`` is over the limit is refused unread; one
    sent in chunks is cut off when the running total passes it. A POST that
    finds ``pool`` full is answered 503 (``Retry-After: 1``) before its body is
    read, and one whose body has not all arrived ``read_timeout`` seconds after
    it got its place is answered 408, so slow clients cannot hold the places.
    """

    def __init__(self, app, *, max_bytes, pool, read_timeout):
        self.app = app
        self.max_bytes = max_bytes
        self.pool = pool
        self.read_timeout = read_timeout

    def _too_large(self):
        return (f"the request body is over the server's limit of {self.max_bytes} bytes; "
                "send a smaller file")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await _send_json(send, 413, self._too_large())
        if not self.pool.admit():
            return await _send_json(
                send, 503, f"the server is busy ({self.pool.capacity} requests in progress or "
                           "waiting); try again in a moment", [(b"retry-after", b"1")])
        loop = asyncio.get_running_loop()
        deadline, received, complete = loop.time() + self.read_timeout, 0, False

        async def limited_receive():
            nonlocal received, complete
            if complete:  # the body is in: what follows is a disconnect, waited for at will
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise HTTPException(408, f"the request body did not arrive within "
                                         f"{self.read_timeout:g} s") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.max_bytes:
                    raise HTTPException(413, self._too_large())
            return message

        try:
            await self.app(scope, limited_receive, send)
        finally:
            self.pool.leave()

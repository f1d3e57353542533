"""Emotions over HTTP: a FastAPI application and its one-page web UI.

:func:`create_app` builds the application (``POST /v1/analyze``, ``POST
/v1/predict``, ``GET /v1/models``, ``GET /healthz``, ``/openapi.json`` and the
page at ``/``) and :func:`run_server` serves it with uvicorn; ``fer-sklearn
serve`` does both. Needs the ``serve`` extra: ``pip install fer-sklearn[serve]``.
"""

from ._app import create_app, run_server

__all__ = ["create_app", "run_server"]

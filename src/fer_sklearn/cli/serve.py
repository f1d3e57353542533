"""``fer-sklearn serve``: emotions over HTTP and a one-page web UI (the ``serve`` extra)."""

import sys
from pathlib import Path

from ._common import (
    CLIError,
    add_model_argument,
    load_model,
    positive_float,
    positive_int,
    shared_options,
)

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_parser(commands):
    """Add the ``serve`` command to the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "serve", parents=[shared_options(
            "detector", "min_score", "threads",
            threads=dict(default=1, help="PyTorch threads of each analysis (default: 1)"))],
        help="answer emotions over HTTP, with a web page to drop photos on",
        description="Serve a model over HTTP: POST /v1/analyze (a photo: faces, boxes, "
                    "detection scores and emotions), POST /v1/predict (face crops), GET "
                    "/v1/models, GET /healthz, the OpenAPI schema at /openapi.json and a page "
                    "at / to drop a photo on. Listens on 127.0.0.1 (this machine only) unless "
                    "--host says otherwise. Needs the serve extra: pip install "
                    "'fer-sklearn[serve]'.")
    add_model_argument(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1, this machine only; "
                             "0.0.0.0 opens the server to the network)")
    parser.add_argument("--port", type=positive_int, default=8000, help="(default: 8000)")
    parser.add_argument("--workers", type=positive_int, default=2, metavar="N",
                        help="analyses at once, one thread each (default: 2)")
    parser.add_argument("--queue", type=int, default=16, metavar="N",
                        help="requests that may wait for a worker; more get 503 at once "
                             "(default: 16)")
    parser.add_argument("--max-upload-mb", type=positive_float, default=10.0, metavar="MB",
                        help="largest request body, in MiB (default: 10)")
    parser.add_argument("--max-pixels", type=positive_int, default=25_000_000, metavar="N",
                        help="most pixels of an uploaded image, refused before decoding "
                             "(default: 25000000)")
    parser.add_argument("--read-timeout", type=positive_float, default=30.0, metavar="S",
                        help="seconds a request's body may take to arrive; slower gets 408 "
                             "(default: 30)")
    parser.set_defaults(handler=run)


def run(args):
    """Serve as ``args`` say, until interrupted; returns the exit code."""
    try:
        from fer_sklearn.serve import create_app, run_server
    except ImportError as exc:
        raise CLIError(f"serve needs the serve extra ({exc}): pip install 'fer-sklearn[serve]'"
                       ) from None
    if args.queue < 0:
        raise CLIError(f"--queue must be 0 or more, got {args.queue}")
    model = load_model(args)
    name = args.model or args.pretrained or "default"
    source = "file" if args.model is not None and Path(args.model).is_file() else "pretrained"
    app = create_app(model, name=str(name), source=source, detector=args.detector,
                     min_score=args.min_score, workers=args.workers, queue=args.queue,
                     max_upload_bytes=int(args.max_upload_mb * 2**20),
                     max_pixels=args.max_pixels, read_timeout=args.read_timeout,
                     n_threads=args.threads)
    if args.host not in _LOOPBACK:
        print(f"fer-sklearn: warning: listening on {args.host}: anyone who can reach this "
              "machine can use the server (no authentication)", file=sys.stderr)
    print(f"fer-sklearn: serving {name} on http://{args.host}:{args.port}/ (Ctrl+C stops)",
          file=sys.stderr)
    run_server(app, host=args.host, port=args.port)
    return 0

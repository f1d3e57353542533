"""``python -m fer_sklearn``: the ``fer-sklearn`` command line."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())

"""The ``fer-sklearn`` command line: argument parsing that calls the public API."""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]

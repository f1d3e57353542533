"""The ``fer-sklearn`` command: its parser, and the dispatch to one module per verb.

Each verb (:mod:`.train`, :mod:`.distill`, :mod:`.evaluate`, :mod:`.predict`, :mod:`.search`,
:mod:`.export`, :mod:`.serve`) adds its own sub-parser and calls the public API;
nothing heavy (torch, scikit-learn, OpenCV) is imported until a verb runs, so
``--help`` and argument errors are immediate. Errors about the user's input (a
missing file, a wrong format, a bad option) print one line and exit with code 2;
any other error keeps its traceback.
"""

import argparse
import os
import sys

from . import distill, evaluate, export, predict, search, serve, train
from ._common import EXIT_USAGE, CLIError

_VERBS = (train, distill, evaluate, predict, search, export, serve)


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(f"{message} (see '{self.prog} --help')")


def build_parser():
    """Build the argument parser of the ``fer-sklearn`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        With one sub-command per verb.
    """
    from fer_sklearn import __version__

    parser = _ArgumentParser(
        prog="fer-sklearn",
        description="Train, evaluate and apply facial expression (7 emotions) classifiers.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     parser_class=_ArgumentParser)
    commands.required = True
    for verb in _VERBS:
        verb.add_parser(commands)
    return parser


def main(argv=None):
    """Run the ``fer-sklearn`` command line; returns the exit code.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    code : int
        0 on success, 1 when ``predict`` could not read some images (photos
        without a face are not failures), 2 for a usage error (printed as one
        line; set ``FER_SKLEARN_DEBUG=1`` for its traceback), 130 when
        interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.handler(args)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except CLIError as exc:
        if os.environ.get("FER_SKLEARN_DEBUG"):
            raise
        print(f"fer-sklearn: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("fer-sklearn: interrupted", file=sys.stderr)
        return 130

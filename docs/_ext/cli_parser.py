"""The ``fer-sklearn`` parser as sphinx-argparse documents it.

``fer_sklearn.cli.build_parser()`` with the ``*`` of its help texts (``root/<emotion>/*.png``)
escaped, since sphinx-argparse reads help texts as reStructuredText.
"""

import argparse

from fer_sklearn.cli import build_parser


def _escape(parser):
    for action in parser._actions:
        if action.help and action.help is not argparse.SUPPRESS:
            action.help = action.help.replace("*", r"\*")
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _escape(sub)
    return parser


def parser():
    """The ``fer-sklearn`` argument parser, its help texts escaped for reStructuredText."""
    return _escape(build_parser())

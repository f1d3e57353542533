"""The per-epoch table of a training run, in colour on a terminal and plain in a log file."""

import re
import sys

from skorch.callbacks import PrintLog

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class TerminalPrintLog(PrintLog):
    """skorch's :class:`~skorch.callbacks.PrintLog`, without colour codes when output is no
    terminal.

    skorch colours the best scores with ANSI escape codes; written to a file
    or a pipe (``make demo > log``) they would show as ``[32m...[0m``.
    """

    def _sink(self, text, verbose):
        if self.sink is print and not sys.stdout.isatty():
            text = _ANSI.sub("", text)
        super()._sink(text, verbose)

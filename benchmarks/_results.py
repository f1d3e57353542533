"""What every benchmark shares: the machine it ran on, its Markdown tables, writing its results.

A benchmark takes :func:`machine_info` when it starts (the load average then) and
hands it to :func:`write_results`, which adds the date, the command and the load
average at the end, so that every figure in ``benchmarks/results`` carries its
command, date and CPU in one shape.
"""

import datetime
import json
import os
import sys

import pandas as pd

from fer_sklearn.evaluation import machine_info

__all__ = ["machine_info", "markdown_table", "write_results"]


def markdown_table(rows, columns=None):
    """``rows`` (dicts of cells, formatted as they should read) as a Markdown table.

    ``columns`` maps the keys to show, in order, to their headers (default: every key).
    """
    table = pd.DataFrame(list(rows))
    if columns is not None:
        table = table[list(columns)].rename(columns=columns)
    return table.to_markdown(index=False, disable_numparse=True)


def write_results(path, result, table, note, machine=None):
    """Write ``result`` as JSON to ``path`` and print ``table``, ``note`` and where it went.

    The JSON starts with the date, the command and ``machine`` (default: the machine
    now), with the load average at the end added, unless ``result`` gives its own.
    """
    machine = dict(machine or machine_info())
    try:
        machine["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
    except OSError:  # no load average on this system
        pass
    result = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "command": " ".join([os.path.relpath(sys.executable), *sys.argv]),
              "machine": machine, **result}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    print()
    print(table)
    print()
    print(note)
    print(f"wrote {path}")

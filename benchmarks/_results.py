"""Writing a benchmark's results: the JSON file, then its Markdown table and notes on stdout."""

import json
import os


def write_results(path, result, table, note):
    """Write ``result`` as JSON to ``path`` and print ``table``, ``note`` and where it went."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    print()
    print(table)
    print()
    print(note)
    print(f"wrote {path}")

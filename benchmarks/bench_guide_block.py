"""Time a guide's code block at full size, on FER2013, and print what its last line gives.

``tests/test_guides.py`` runs every block at one epoch on drawn faces; this runs one block as
a reader would, with ``X, y`` FER2013 Training and ``X_valid, y_valid`` PublicTest
(``../shared/data/fer2013``), so that the time and the result a guide states come from a
command.

Run::

    .venv/bin/python benchmarks/bench_guide_block.py docs/guide/training.md GridSearchCV \
        --out benchmarks/results/guide_grid_search.json
"""

import argparse
import ast
import re
import time
from pathlib import Path

from _results import machine_info, write_results  # benchmarks/_results.py

from fer_sklearn import load_fer2013
from fer_sklearn.datasets import fer2013_file


def find_block(page, key):
    """The one ```python block of ``page`` that contains ``key``."""
    blocks = [block for block in re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
              if key in block]
    if len(blocks) != 1:
        raise SystemExit(f"{len(blocks)} blocks of {page} contain {key!r}; name one")
    return blocks[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="a Markdown page, e.g. docs/guide/training.md")
    parser.add_argument("key", help="a string that only the block to run contains")
    parser.add_argument("--out", type=Path, help="write the result here as JSON")
    args = parser.parse_args(argv)

    machine = machine_info()
    block = find_block(args.page, args.key)
    X, y = load_fer2013(fer2013_file(), usage="Training", return_X_y=True)
    X_valid, y_valid = load_fer2013(fer2013_file(), usage="PublicTest", return_X_y=True)
    namespace = {"X": X, "y": y, "X_valid": X_valid, "y_valid": y_valid}
    tree = ast.parse(block)
    last = tree.body.pop() if isinstance(tree.body[-1], ast.Expr) else None
    start = time.perf_counter()
    exec(compile(tree, str(args.page), "exec"), namespace)
    value = eval(compile(ast.Expression(last.value), str(args.page), "eval"),
                 namespace) if last else None
    seconds = time.perf_counter() - start
    summary = f"{seconds:.0f} s; {ast.unparse(last) if last else 'no last expression'}: {value!r}"
    if args.out:
        write_results(args.out, {"page": str(args.page), "key": args.key, "block": block,
                                 "seconds": round(seconds, 1), "last_value": repr(value)},
                      block, summary, machine)
    else:
        print(block, summary, sep="\n")


if __name__ == "__main__":
    main()

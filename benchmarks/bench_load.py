"""Time and peak memory of ``load_fer2013`` on the real file (all 32,298 rows).

    python benchmarks/bench_load.py [--data FER2013_CSV]

Runs the load in a fresh child process so that the peak resident memory is the
loader's alone (plus the interpreter and numpy/pandas). Writes ``--out`` (default
``benchmarks/results/load.json``, with the machine) and prints a Markdown table.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from _results import markdown_table, write_results  # benchmarks/_results.py

from fer_sklearn.datasets import fer2013_file

CHILD = """
import json, resource, sys, time
from fer_sklearn import load_fer2013
start = time.perf_counter()
bunch = load_fer2013(sys.argv[1])
print(json.dumps({
    "rows": len(bunch.data),
    "seconds": round(time.perf_counter() - start, 2),
    "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
}))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(fer2013_file()))
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "load.json"))
    args = parser.parse_args(argv)
    out = subprocess.run([sys.executable, "-c", CHILD, args.data], check=True,
                         capture_output=True, text=True).stdout
    result = dict(json.loads(out), data=args.data)
    write_results(args.out, result, markdown_table([result]),
                  "The child process's peak (ru_maxrss): the interpreter, numpy, pandas, torch.")


if __name__ == "__main__":
    main()

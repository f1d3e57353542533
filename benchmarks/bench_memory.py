"""Peak memory of ``predict`` on an in-memory array as the number of faces grows.

    .venv/bin/python benchmarks/bench_memory.py [--faces 8000 32000 128000] [--model default]

For each count, a child process (``benchmarks/_child_memory.py`` samples its resident
memory) loads the shipped model, builds ``N`` 48x48 uint8 faces (FER2013 PublicTest
faces repeated, or synthetic ones without the data), records its resident memory, then
runs ``model.predict`` on the whole array; the table gives the growth of the peak
(``VmHWM``) over the resident memory before ``predict``, per count, and whether the labels
equal those of the same faces predicted 1,000 at a time. The pipeline passes the array
through its steps in chunks of ``sklearn.get_config()["working_memory"]`` (1 GiB by
default), so the growth should stay flat in ``N``.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _results import markdown_table, write_results  # benchmarks/_results.py

from fer_sklearn.datasets import fer2013_file

HERE = Path(__file__).resolve().parent
FER2013 = fer2013_file()

CHILD = r"""
import json, re, sys, numpy as np, torch
torch.set_num_threads({threads})
from fer_sklearn import load_fer2013, load_pretrained, make_faces
def hwm():
    text = open("/proc/self/status").read()
    return {{k: int(v) / 1024 for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M)}}
model = load_pretrained({model!r}, device="cpu")
try:
    base, _ = load_fer2013({data!r}, usage="PublicTest", return_X_y=True)
except (OSError, ValueError):
    base, _ = make_faces(3589, size=48, random_state=0)
X = np.resize(base, ({n}, 48, 48))
model.predict(X[:100])  # warm: the network built, int8 ranges applied
before = hwm()["VmRSS"]
with open("/proc/self/clear_refs", "w") as f:  # reset the high-water mark (Linux)
    f.write("5")
start = hwm()
labels = model.predict(X)
peak = hwm()["VmHWM"]
check = np.concatenate([model.predict(X[i:i + 1000]) for i in range(0, min(len(X), 20000), 1000)])
print(json.dumps({{"rss_before_mib": before, "hwm_after_reset_mib": start["VmHWM"],
                  "peak_mib": peak,
                  "same_labels_first_20000": bool((check == labels[:len(check)]).all()),
                  "input_mib": X.nbytes / 2**20}}))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, nargs="+", default=[8000, 32000, 128000])
    parser.add_argument("--model", default="default")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default=str(FER2013))
    parser.add_argument("--out", default=str(HERE / "results" / "memory.json"))
    args = parser.parse_args(argv)
    rows = []
    for n in args.faces:
        code = CHILD.format(threads=args.threads, model=args.model, data=args.data, n=n)
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row.update(faces=n, seconds=round(time.perf_counter() - start, 1),
                   growth_mib=round(row["peak_mib"] - row["rss_before_mib"], 1))
        rows.append(row)
        print(f"{n} faces: input {row['input_mib']:.0f} MiB, peak growth {row['growth_mib']:.0f} "
              f"MiB, same labels {row['same_labels_first_20000']}", flush=True)
    table = markdown_table({
        "faces": f"{r['faces']:,}", "input MiB": f"{r['input_mib']:.0f}",
        "peak growth during predict, MiB": f"{r['growth_mib']:.0f}",
        "same labels": str(r["same_labels_first_20000"])} for r in rows)
    result = {"rows": rows, "markdown": table}  # write_results adds date, command and machine
    write_results(args.out, result, table, f"model {args.model!r}, {args.threads} threads")
    return 0


if __name__ == "__main__":
    sys.exit(main())

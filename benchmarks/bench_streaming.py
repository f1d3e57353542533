"""Memory while predicting 100,000 faces streamed from disk in batches: it stays flat.

``fer-sklearn predict --no-detect FOLDER --output rows.csv`` over a folder of
``--n-faces`` 48x48 PNG face crops (100,000 by default; 2,000 distinct synthetic faces,
hard-linked to reach the count, in sub-folders of 1,000), with the shipped ``default``
model: the files are read ``--batch-size`` at a time and the rows written as they come.
The child's resident memory is sampled every half second with the rows written so far;
the growth is its peak minus its resident memory once the first 5% of the rows are
written (the model loaded, the first batches done). Peer: the same command over a tenth
of the faces, run before it: a flat profile gives both the same peak. The files sit in
the page cache after they are written, so this measures the library's memory, not the
disk.

Run::

    python benchmarks/bench_streaming.py                      # 100,000 faces
    python benchmarks/bench_streaming.py --n-faces 20000

Results: ``benchmarks/results/streaming.json``.
"""

import argparse
import os
import tempfile
from pathlib import Path

from _child_memory import ROOT, run_sampled
from _results import markdown_table, write_results
from PIL import Image

from fer_sklearn import make_faces

DISTINCT = 2000


def write_faces(folder, n_faces):
    """``n_faces`` PNG crops in sub-folders of 1,000; returns the folder."""
    faces, _ = make_faces(DISTINCT, random_state=0)
    originals = Path(folder) / "originals"
    originals.mkdir(parents=True)
    for i, face in enumerate(faces):
        Image.fromarray(face).save(originals / f"{i:04d}.png")
    for i in range(n_faces):
        sub = Path(folder) / "faces" / f"{i // 1000:03d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True)
        os.link(originals / f"{i % DISTINCT:04d}.png", sub / f"{i:06d}.png")
    return Path(folder) / "faces"


def rows_written(rows_file, bytes_per_row):
    """Rows in the CSV so far, estimated from its size (cheap enough to sample)."""
    try:
        return int(os.path.getsize(rows_file) / bytes_per_row)
    except OSError:
        return 0


def measure(inputs, batch_size, rows_file):
    """One run over the folders ``inputs``; its memory profile and growth after 5% of the rows."""
    bytes_per_row = 155  # about, for the default model's rows
    run = run_sampled(["predict", "--no-detect", *map(str, inputs), "--output", str(rows_file),
                       "--batch-size", str(batch_size)],
                      every=0.5, progress=lambda: rows_written(rows_file, bytes_per_row))
    with open(rows_file, encoding="utf-8") as file:
        n_rows = sum(1 for _ in file) - 1
    warm = [rss for _, rss, rows in run["samples"] if rows and rows >= 0.05 * n_rows]
    baseline = warm[0] if warm else float("nan")
    return {"faces": n_rows, "rows": n_rows, "returncode": run["returncode"],
            "seconds": run["seconds"], "faces_per_s": round(n_rows / run["seconds"], 1),
            "rss_after_5pct_mib": baseline, "peak_mib": run["peak_mib"],
            "growth_mib": round(run["peak_mib"] - baseline, 1), "samples": run["samples"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-faces", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/streaming.json"))
    options = parser.parse_args()

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        faces = write_faces(tmp, options.n_faces)
        folders = sorted(faces.iterdir())
        for n in (options.n_faces // 10, options.n_faces):  # the peer first
            inputs = [faces] if n == options.n_faces else folders[: max(1, n // 1000)]
            runs.append(measure(inputs, options.batch_size, Path(tmp) / f"rows-{n}.csv"))
            print({k: v for k, v in runs[-1].items() if k != "samples"}, flush=True)
    table = markdown_table({
        "faces": f"{r['faces']:,}", "rows": f"{r['rows']:,}", "faces/s": f"{r['faces_per_s']:.0f}",
        "RSS after 5% (MiB)": f"{r['rss_after_5pct_mib']:.0f}",
        "peak RSS (MiB)": f"{r['peak_mib']:.0f}",
        "growth (MiB)": f"{r['growth_mib']:.0f}"} for r in runs)
    result = {"batch_size": options.batch_size, "runs": runs}
    write_results(options.out, result, table,
                  "growth: the child's peak RSS (VmHWM) minus its RSS once 5% of the rows "
                  "were written")


if __name__ == "__main__":
    main()

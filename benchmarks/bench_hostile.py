"""``fer-sklearn predict`` over a folder of photos from the wild: crashes, lost rows, peak memory.

A generated folder of ``--n-files`` small images (64x64 synthetic faces, 1,000 by default)
of which ``--n-bad`` (60) are broken, ten kinds in turn
(:func:`fer_sklearn.datasets.make_hostile_folder`): empty,
truncated JPEG, text named .jpg, decompression bombs (30000x30000 and 10000x10000 PNGs
of 100 KB and 12 KB), corrupt PNG data, a folder named x.jpg, a broken symbolic link, a
loop of links and a named pipe; among the good ones, 16-bit, CMYK, animated, alpha,
palette, TIFF, BMP, WebP, EXIF-rotated and one-pixel images and a file name that is not
UTF-8. Peer: a folder of the same size without the broken files, run alternately with
it (``--rounds``). The command runs in a child process whose memory is sampled; its peak
is the child's own high-water mark.

Run::

    python benchmarks/bench_hostile.py                     # 1,000 files, 60 broken
    python benchmarks/bench_hostile.py --n-files 200 --rounds 1

Results: ``benchmarks/results/hostile.json``.
"""

import argparse
import csv
import tempfile
from collections import Counter
from pathlib import Path

from _child_memory import run_sampled
from _results import markdown_table, write_results

from fer_sklearn.datasets import make_hostile_folder


def _printable(path):
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def check_rows(rows_file, bad, good):
    """What the rows say: files without a row, and bad files with exactly one error row."""
    with open(rows_file, encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    per_file = Counter(row["file"] for row in rows)
    errors = Counter(row["file"] for row in rows if row["status"] == "error")
    return {
        "rows": len(rows),
        "files_without_a_row": sum(per_file[_printable(p)] == 0 for p in bad + good),
        "bad_with_one_error_row": sum(per_file[_printable(p)] == errors[_printable(p)] == 1
                                      for p in bad),
        "good_with_an_error_row": sum(errors[_printable(p)] > 0 for p in good),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-files", type=int, default=1000)
    parser.add_argument("--n-bad", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "hostile.json"))
    options = parser.parse_args()

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        folders = {
            "hostile": make_hostile_folder(Path(tmp) / "hostile", options.n_files, options.n_bad),
            "clean": make_hostile_folder(Path(tmp) / "clean", options.n_files, 0),
        }
        for round_ in range(options.rounds):
            for name in ("clean", "hostile"):  # interleaved
                bad, good = folders[name]
                rows_file = Path(tmp) / f"{name}-{round_}.csv"
                run = run_sampled(["predict", str(Path(tmp) / name), "--output", str(rows_file)])
                crashed = run["returncode"] not in (0, 1) or "Traceback" in run["stderr"]
                runs.append(dict(folder=name, round=round_, files=len(bad) + len(good),
                                 bad=len(bad), crashed=crashed,
                                 **check_rows(rows_file, bad, good),
                                 **{k: run[k] for k in ("returncode", "seconds", "peak_mib")}))
                print(runs[-1], flush=True)
    kinds = sorted({p.name.split("-", 2)[2] for p in folders["hostile"][0]})
    table = markdown_table({
        "folder": f"{r['folder']} (round {r['round'] + 1})", "files": r["files"],
        "broken": r["bad"], "rows": r["rows"], "files without a row": r["files_without_a_row"],
        "broken files with one error row": r["bad_with_one_error_row"],
        "crashes": int(r["crashed"]), "peak RSS (MiB)": f"{r['peak_mib']:.0f}",
        "seconds": f"{r['seconds']:.0f}"} for r in runs)
    result = {"kinds_of_broken_file": kinds, "runs": runs}
    note = (f"{options.n_bad} broken files of {len(kinds)} kinds: {', '.join(kinds)}; "
            "peak RSS is the child process's high-water mark (VmHWM).")
    write_results(options.out, result, table, note)


if __name__ == "__main__":
    main()

"""What each pass of BlazeFace's search costs, per photo, on the CPU of the run.

``detect_faces`` searches a photo in the short-range pass (the photo's shorter
side at 128 pixels), the edge pass (the photo mirrored past its edges) and, when
those found no face or several, the full-range pass. This script times, photo
by photo and one thread, on each set of photos:

* each pass alone (``_search``, ``edge_pass``, ``full_range_pass`` on the photo
  as detection sees it: decoded and shrunk to ``max_side=320``), so that its
  cost is known wherever it runs;
* ``detect_faces`` end to end (decode, shrink, passes, second look, framing),
  with the edge and full-range passes switched off (the search of the code
  before them) and on (now), and on how many photos the edge and full-range passes ran.

The sets: ``bench_vs_fer.py``'s composed photos (``--n-photos`` 640x480 JPEG
files, one FER2013 PublicTest face each: a photo of one person), and the photos
of ``real_photos.json`` (all splits: portraits, groups, cut and turned faces,
photos without faces). Writes ``--out`` and a Markdown table; the CPU's model
and instruction sets are in the JSON (``machine``).

Run::

    .venv/bin/python benchmarks/bench_detection_passes.py \\
        --out benchmarks/results/detection_passes.json
"""

import argparse
import contextlib
import os
import statistics
import tempfile
import time

import numpy as np
from _results import machine_info, markdown_table, write_results  # benchmarks/_results.py
from bench_vs_fer import compose
from real_photos import build, manifest

from fer_sklearn import detect_faces
from fer_sklearn.faces import _blazeface, _passes
from fer_sklearn.faces._detect import _shrunk, read_photo


@contextlib.contextmanager
def passes(edge=True, full=True, ran=None):
    """detect_faces with the edge and full-range passes on or off; ``ran`` (a dict) counts
    the photos each ran on."""
    saved = _passes.edge_pass, _passes.full_range_pass

    def no_pass(rgb, *args, **kwargs):
        return np.empty((0, 4)), np.empty(0), np.empty((0, 6, 2))

    def counted(name, search):
        if ran is None:
            return search

        def run(rgb, threshold):
            ran[name] = ran.get(name, 0) + 1
            return search(rgb, threshold)
        return run

    _passes.edge_pass = counted("edge pass", saved[0]) if edge else no_pass
    _passes.full_range_pass = counted("full-range pass", saved[1]) if full else no_pass
    try:
        yield
    finally:
        _passes.edge_pass, _passes.full_range_pass = saved


def timed(function, *args, repeat=3):
    """The fastest of ``repeat`` calls, in milliseconds (the least disturbed by other jobs)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function(*args)
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def measure(paths):
    """Per photo: each pass alone, and detect_faces before and now; medians and means in ms."""
    times = {key: [] for key in ("short-range pass", "edge pass", "full-range pass",
                                 "detect_faces before (short-range pass only)",
                                 "detect_faces now")}
    ran = {}
    for path in paths:
        photo = read_photo(path, "blazeface", min_size=None, max_side=320)
        rgb, _ = _shrunk(photo.pixels, 320, photo.scale)
        side = min(rgb.shape[:2])
        times["short-range pass"].append(timed(_blazeface._search, rgb, 0.4, side))
        times["edge pass"].append(timed(_passes.edge_pass, rgb, 0.4))
        times["full-range pass"].append(timed(_passes.full_range_pass, rgb, 0.4))
        with passes(edge=False, full=False):
            times["detect_faces before (short-range pass only)"].append(timed(detect_faces, path))
        times["detect_faces now"].append(timed(detect_faces, path))
        with passes(ran=ran):
            detect_faces(path)
    summary = {key: {"median_ms": round(statistics.median(v), 2),
                     "mean_ms": round(statistics.fmean(v), 2)} for key, v in times.items()}
    for name in ("edge pass", "full-range pass"):
        summary[f"{name} ran on"] = f"{ran.get(name, 0)}/{len(paths)} photos"
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-photos", type=int, default=100)
    parser.add_argument("--out", default="benchmarks/results/detection_passes.json")
    args = parser.parse_args(argv)
    machine = machine_info()
    sets = {}
    with tempfile.TemporaryDirectory() as tmp:
        compose(tmp, args.n_photos, "PublicTest", 0)
        composed = sorted(os.path.join(tmp, n) for n in os.listdir(tmp) if n.endswith(".jpg"))
        detect_faces(composed[0])  # warm up: load the networks
        sets["one FER2013 face per 640x480 photo (bench_vs_fer.py's)"] = measure(composed)
    real = build()
    sets["real_photos.json, all splits"] = measure([real[p["name"]] for p in manifest()["photos"]])
    cells = []
    for name, summary in sets.items():
        for key, value in summary.items():
            cells.append({"photos": name, "what": key,
                          "ms per photo (median / mean)": value if isinstance(value, str)
                          else f"{value['median_ms']:.2f} / {value['mean_ms']:.2f}"})
    write_results(args.out, {"sets": sets}, markdown_table(cells),
                  "Each photo timed 3 times, the fastest kept; one thread.", machine)


if __name__ == "__main__":
    main()

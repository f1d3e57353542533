"""Benchmark the shipped models: PublicTest accuracy (with and without TTA) and CPU speed.

    python benchmarks/bench_pretrained.py [--data FER2013_CSV]

Accuracy is measured on FER2013 PublicTest (the validation split: the shipped
model was selected on it, so it is an optimistic estimate; PrivateTest is
scored independently). Speed is ``load_pretrained().predict_proba`` on the CPU:
images/s at batch size 256, and the median latency of one face. Writes
``benchmarks/results/pretrained.json`` and prints a Markdown table.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from _results import markdown_table, write_results  # benchmarks/_results.py

from fer_sklearn import EMOTIONS, available_models, load_fer2013, load_pretrained
from fer_sklearn.datasets import fer2013_file
from fer_sklearn.evaluation import evaluate

RESULTS = Path(__file__).parent / "results" / "pretrained.json"


def throughput(model, faces, batch_size=256, repeats=3):
    """Images per second of ``predict_proba`` at ``batch_size`` (best of ``repeats``)."""
    batch = faces[:batch_size]
    model.predict_proba(batch)  # warm-up
    best = min(_timed(model.predict_proba, batch) for _ in range(repeats))
    return batch_size / best


def latency_ms(model, faces, n=50):
    """Median milliseconds of ``predict_proba`` on a single face."""
    model.predict_proba(faces[:1])
    return 1000 * float(np.median([_timed(model.predict_proba, faces[i:i + 1]) for i in range(n)]))


def _timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(fer2013_file()))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--models", nargs="+", help="which shipped models (default: all)")
    parser.add_argument("--no-tta", action="store_true", help="measure without TTA only")
    parser.add_argument("--out", default=str(RESULTS), help=f"results file (default: {RESULTS})")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    X, y = load_fer2013(args.data, usage="PublicTest", return_X_y=True)
    names = np.array(EMOTIONS)[y]
    rows = []
    for name in args.models or available_models():
        for tta in (False,) if args.no_tta else (False, True):
            model = load_pretrained(name, tta=tta)
            start = time.perf_counter()
            report = evaluate(model, X, names)
            row = {
                "model": name, "tta": tta,
                "public_test_accuracy": round(report.accuracy, 4),
                "macro_f1": round(report.f1_macro, 4),
                "eval_seconds": round(time.perf_counter() - start, 1),
            }
            if not args.skip_speed:
                row["images_per_s_batch256"] = round(throughput(model, X), 1)
                row["single_face_ms"] = round(latency_ms(model, X, n=20 if tta else 50), 2)
            if name == "default" and not tta and args.out == str(RESULTS):
                report.save(RESULTS.parent / "default-public-test")
            rows.append(row)
            print(row, flush=True)
    result = {"torch": torch.__version__, "threads": args.threads, "rows": rows}
    write_results(args.out, result, markdown_table(rows),
                  "PublicTest is the split the shipped models were selected on (optimistic).")

if __name__ == "__main__":
    main()

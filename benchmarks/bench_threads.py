"""Two ways to spread one prediction over threads, interleaved: shared passes or chunk workers.

    .venv/bin/python benchmarks/bench_threads.py [--rounds 3] [--threads 2] [--models default]

On the 3,589 PublicTest faces in 64-face chunks, for each model and precision (float32 and
int8): **shared**, every chunk through the network with ``--threads`` torch threads working on
each layer together (how predictions once ran), against **workers**, ``--threads``
Python threads each taking whole chunks in turn with one torch thread (how
``FastPredictor`` runs now). Interleaved, so both see the same load; the table gives the
median images/s and whether the answers agree. On a machine that other jobs keep busy the
shared passes wait at every layer for a thread the OS paused; the workers do not.
"""

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from _results import machine_info, markdown_table, write_results  # benchmarks/_results.py

from fer_sklearn import load_fer2013, load_pretrained
from fer_sklearn.datasets import fer2013_file

HERE = Path(__file__).resolve().parent
FER2013 = fer2013_file()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(FER2013))
    parser.add_argument("--models", nargs="+", default=["default"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(HERE / "results" / "threads.json"))
    args = parser.parse_args(argv)
    machine = machine_info()
    X, _ = load_fer2013(args.data, usage="PublicTest", return_X_y=True)
    rows = []
    for name in args.models:
        for precision in ("32", "int8"):
            model = load_pretrained(name, device="cpu").set_params(clf__precision=precision)
            model.predict(X[:100])
            network = model[-1]._fast_predictor().network
            images = model[:-1].transform(X)[:, None].astype(np.float32)
            chunks = [images[i:i + 64] for i in range(0, len(images), 64)]

            def run(chunk, network=network):
                with torch.inference_mode():
                    x = torch.from_numpy(chunk).contiguous(memory_format=torch.channels_last)
                    return network(x).numpy()

            shared, workers = [], []
            for _ in range(args.rounds):
                torch.set_num_threads(args.threads)
                start = time.perf_counter()
                a = np.concatenate([run(c) for c in chunks])
                shared.append(len(X) / (time.perf_counter() - start))
                start = time.perf_counter()
                with ThreadPoolExecutor(args.threads, initializer=torch.set_num_threads,
                                        initargs=(1,)) as pool:
                    b = np.concatenate(list(pool.map(run, chunks)))
                workers.append(len(X) / (time.perf_counter() - start))
            rows.append({"model": f"{name}:{precision}",
                         "shared passes, images/s": f"{np.median(shared):.0f}",
                         "chunk workers, images/s": f"{np.median(workers):.0f}",
                         "workers / shared": f"{np.median(workers) / np.median(shared):.2f}",
                         "same labels": bool((a.argmax(1) == b.argmax(1)).all())})
            print(rows[-1], flush=True)
    table = markdown_table(rows)
    write_results(args.out, {"rows": rows, "markdown": table}, table,
                  f"{args.threads} threads, {args.rounds} interleaved rounds", machine=machine)
    return 0


if __name__ == "__main__":
    sys.exit(main())

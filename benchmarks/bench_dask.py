"""Scale-out on Dask: a small grid search and a 100,000-face prediction, serial against 2 workers.

    .venv/bin/python benchmarks/bench_dask.py [--search-rounds 5] [--predict-rounds 2]
    .venv/bin/python benchmarks/bench_dask.py --search-rounds 1 --predict-rounds 1 \
        --n-faces 20000 --out /tmp/dask.json

What it measures
----------------
**Grid search.** ``GridSearchCV`` over :func:`make_emotion_pipeline` (the
small network the CLI uses on synthetic faces, ``--epochs`` epochs, batch 64)
with ``clf__lr`` in {1e-3, 3e-3} and ``clf__module__dropout`` in {0.3, 0.5},
3 folds: 12 fits and the refit, on the first ``--n-train`` FER2013 Training
faces (synthetic faces when the file is absent). *Serial*: ``search.fit`` in
this process with torch's default threads (one per core). *Dask*:
:func:`fer_sklearn.distributed.fit_on_dask` on a ``LocalCluster`` of 2 worker
processes with one thread each (each fit gets 1 torch thread, its share of the
2 cores); the refit runs in this process. The cluster is started, and its
workers import the library, once before the rounds (timed apart).

**Prediction.** ``--n-faces`` faces, the 3,589 FER2013 PublicTest faces tiled
(synthetic faces without the file), in a ``.npy`` file. *Serial*: the shipped
``default`` model's ``predict_proba`` over memory-mapped chunks of
``--chunk-size`` in this process (torch's default threads), one CSV row per
face. *Dask*: :func:`fer_sklearn.distributed.write_predictions` on the same
cluster: the model is broadcast once, each worker reads its chunks from the
file, the rows are written as chunks finish. Each worker's resident memory is
sampled every second (``psutil`` through ``client.run``), and this process's
during the serial pass.

The machine is shared, so each round runs serial then Dask (``--search-rounds``
rounds of the search, then ``--predict-rounds`` of the prediction); the table
gives the median and range over rounds and the median of the serial/Dask time
ratio within each round, and the JSON the load average when each measurement
started. Writes ``--out`` (default
``benchmarks/results/dask.json``) and prints a Markdown table.
"""

import argparse
import csv
import datetime
import importlib
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import torch
from _results import machine_info, markdown_table, write_results  # benchmarks/_results.py
from bench_speed import FER2013
from sklearn.model_selection import GridSearchCV

from fer_sklearn import EMOTIONS, load_fer2013, load_pretrained, make_emotion_pipeline, make_faces
from fer_sklearn.distributed import dask_client, fit_on_dask, write_predictions

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "dask.json"
GRID = {"clf__lr": [1e-3, 3e-3], "clf__module__dropout": [0.3, 0.5]}
NET = dict(module__width=8, module__depth=3, module__hidden_units=64)  # the CLI's synthetic net
MIB = 1 << 20


def _faces(usage, n):
    if FER2013.exists():
        data = load_fer2013(FER2013, usage=usage)
        return data.data, np.asarray(EMOTIONS)[data.target], f"FER2013 {usage}"
    X, y = make_faces(min(n, 3589), random_state=0)
    return X, np.asarray(EMOTIONS)[y], "synthetic faces"


def _search(epochs):
    pipe = make_emotion_pipeline(max_epochs=epochs, batch_size=64, random_state=0, **NET)
    return GridSearchCV(pipe, GRID, cv=3)


class _Sampler:
    """Resident memory (MiB) of the Dask workers, or of this process, sampled every second."""

    def __init__(self, client=None):
        self.client, self.samples = client, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self):
        if self.client is None:
            return {"this process": psutil.Process().memory_info().rss / MIB}
        return {w: rss / MIB for w, rss in self.client.run(
            lambda: psutil.Process().memory_info().rss).items()}

    def _run(self):
        while not self._stop.wait(1.0):
            self.samples.append(self._rss())

    def __enter__(self):
        self.samples.append(self._rss())
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.samples.append(self._rss())

    def summary(self):
        """Per process: RSS at the start, its peak, at the end, and the peak's growth (MiB)."""
        out = {}
        for i, name in enumerate(sorted(self.samples[0])):
            values = [s[name] for s in self.samples if name in s]
            out[f"process {i}"] = {"start": round(values[0]), "peak": round(max(values)),
                                   "end": round(values[-1]),
                                   "growth": round(max(values) - values[0])}
        return out


def _predict_serially(model, path, out, chunk_size):
    n = len(np.load(path, mmap_mode="r"))
    with open(out, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["key", "emotion", *model.classes_])
        for start in range(0, n, chunk_size):
            # each chunk from its own memory map, as the workers read them: a map kept open
            # for the whole file would count every page read in this process's RSS
            chunk = np.array(np.load(path, mmap_mode="r")[start:start + chunk_size])
            proba = model.predict_proba(chunk)
            best = model.classes_[proba.argmax(axis=1)]
            writer.writerows([start + i, label, *np.round(p, 6)]
                             for i, (label, p) in enumerate(zip(best, proba)))


def _labels(path):
    with open(path) as file:
        rows = sorted((int(r["key"]), r["emotion"]) for r in csv.DictReader(file))
    return np.array([label for _, label in rows])


def _timed(function, *args, **kwargs):
    """Seconds ``function`` took, and the 1-minute load average when it started."""
    load, start = psutil.getloadavg()[0], time.perf_counter()
    function(*args, **kwargs)
    return {"s": round(time.perf_counter() - start, 1), "load": round(load, 1)}


def _search_round(client, args, X, y):
    return {"serial": _timed(lambda: _search(args.epochs).fit(X, y)),
            "dask": _timed(lambda: fit_on_dask(_search(args.epochs), X, y, client=client))}


def _predict_round(client, args, model, faces_path, tmp):
    with _Sampler() as serial_memory:
        serial = _timed(_predict_serially, model, faces_path, tmp / "serial.csv", args.chunk_size)
    with _Sampler(client) as worker_memory:
        dask = _timed(write_predictions, model, faces_path, tmp / "dask.csv", client=client,
                      chunk_size=args.chunk_size)
    for side in (serial, dask):
        side["faces_per_s"] = round(args.n_faces / side["s"])
    serial["memory_mib"] = serial_memory.summary()
    dask["memory_mib"] = worker_memory.summary()
    agreement = float(np.mean(_labels(tmp / "serial.csv") == _labels(tmp / "dask.csv")))
    return {"serial": serial, "dask": dask, "label_agreement": agreement}


def _spread(rounds, side, key="s"):
    values = [r[side][key] for r in rounds]
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def _ratio(rounds):
    """Median over rounds of serial time / Dask time within the round."""
    return statistics.median(r["serial"]["s"] / r["dask"]["s"] for r in rounds)


def _table(result):
    search, predict = result["search_rounds"], result["predict_rounds"]
    workers = predict[-1]["dask"]["memory_mib"]
    memory = ", ".join(f"{m['start']}->{m['peak']}->{m['end']} MiB" for m in workers.values())
    serial_memory = predict[-1]["serial"]["memory_mib"]["process 0"]
    rows = [
        [f"grid search, {result['n_fits']} fits + refit, s", _spread(search, "serial"),
         _spread(search, "dask"), f"{_ratio(search):.2f}"],
        [f"predict {result['n_faces']:,} faces, s", _spread(predict, "serial"),
         _spread(predict, "dask"), f"{_ratio(predict):.2f}"],
        ["faces/s", _spread(predict, "serial", "faces_per_s"),
         _spread(predict, "dask", "faces_per_s"), ""],
        ["resident memory, start->peak->end", f"this process {serial_memory['start']}->"
         f"{serial_memory['peak']}->{serial_memory['end']} MiB", f"each worker: {memory}", ""],
    ]
    header = ["task, median (min-max) over rounds", "serial", "2 Dask workers",
              "serial / Dask time"]
    return markdown_table(dict(zip(header, row)) for row in rows)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search-rounds", type=int, default=5)
    parser.add_argument("--predict-rounds", type=int, default=2)
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n-faces", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=2048)
    parser.add_argument("--out", default=str(RESULTS))
    return parser.parse_args(argv)


def run_rounds(args, X, y, faces_path, tmp, result):
    """Start a local cluster of 2 workers, then the search and the predict rounds in turn."""
    start = time.perf_counter()
    with dask_client(n_workers=2) as client:
        client.run(importlib.import_module, "fer_sklearn.pipeline")
        result["cluster_start_s"] = round(time.perf_counter() - start, 1)
        for key, rounds, run in [
            ("search_rounds", args.search_rounds,
             lambda: _search_round(client, args, X[:args.n_train], y[:args.n_train])),
            ("predict_rounds", args.predict_rounds,
             lambda: _predict_round(client, args, load_pretrained("default"), faces_path, tmp)),
        ]:
            result[key] = []
            for i in range(rounds):
                result[key].append(run())
                print(f"{key} {i + 1}: {result[key][-1]}", flush=True)


def main(argv=None):
    args = parse_args(argv)
    machine = machine_info()
    result = {"torch_threads_serial": torch.get_num_threads(), "n_faces": args.n_faces,
              "n_fits": 12, "args": vars(args)}
    X, y, source = _faces("Training", args.n_train)
    public, _, face_source = _faces("PublicTest", args.n_faces)
    result["data"] = {"search": f"{args.n_train} {source} faces", "predict": face_source}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        faces_path = tmp / "faces.npy"
        np.save(faces_path, np.resize(public, (args.n_faces, *public.shape[1:])))
        run_rounds(args, X, y, faces_path, tmp, result)
    write_results(args.out, result, _table(result),
                  f"{datetime.date.today()}, {machine['cpu_model']}, "
                  f"{machine['cpu_count']} cores; cluster start "
                  f"{result['cluster_start_s']} s (not in the times); 'load' in the JSON: "
                  f"the 1-minute load average when each measurement started", machine=machine)


if __name__ == "__main__":
    main()

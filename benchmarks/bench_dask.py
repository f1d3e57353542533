"""Scale-out on Dask: a small grid search and a 100,000-face prediction, serial against 2 workers.

    .venv/bin/python benchmarks/bench_dask.py [--rounds 2] [--n-faces 100000]
    .venv/bin/python benchmarks/bench_dask.py --rounds 1 --n-faces 20000 --out /tmp/dask.json

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

The machine is shared, so each round runs serial then Dask, for the search and
then for the prediction, and the table gives the median over rounds and the
ratio within each round. Writes ``--out`` (default
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
from _results import write_results  # benchmarks/_results.py
from bench_speed import FER2013, machine_info
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
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def _round(client, args, train, faces_path, tmp):
    X, y = train
    serial_search = _timed(lambda: _search(args.epochs).fit(X, y))
    dask_search = _timed(lambda: fit_on_dask(_search(args.epochs), X, y, client=client))
    model = load_pretrained("default")
    with _Sampler() as serial_memory:
        serial_predict = _timed(_predict_serially, model, faces_path, tmp / "serial.csv",
                                args.chunk_size)
    with _Sampler(client) as worker_memory:
        dask_predict = _timed(write_predictions, model, faces_path, tmp / "dask.csv",
                              client=client, chunk_size=args.chunk_size)
    agreement = float(np.mean(_labels(tmp / "serial.csv") == _labels(tmp / "dask.csv")))
    return {
        "search_s": {"serial": round(serial_search, 1), "dask": round(dask_search, 1)},
        "predict_s": {"serial": round(serial_predict, 1), "dask": round(dask_predict, 1)},
        "faces_per_s": {"serial": round(args.n_faces / serial_predict),
                        "dask": round(args.n_faces / dask_predict)},
        "memory_mib": {"serial": serial_memory.summary(), "dask_workers": worker_memory.summary()},
        "label_agreement": agreement,
    }


def _table(rounds, result):
    def median(key, side):
        return statistics.median(r[key][side] for r in rounds)

    def ratio(key):
        return statistics.median(r[key]["serial"] / r[key]["dask"] for r in rounds)

    workers = rounds[-1]["memory_mib"]["dask_workers"]
    memory = ", ".join(f"{m['start']}->{m['peak']} MiB" for m in workers.values())
    serial_memory = rounds[-1]["memory_mib"]["serial"]["process 0"]
    rows = [
        ("| task | serial | 2 Dask workers | serial time / Dask time |"),
        ("|---|---|---|---|"),
        (f"| grid search, {result['n_fits']} fits + refit, s | {median('search_s', 'serial')} | "
         f"{median('search_s', 'dask')} | {ratio('search_s'):.2f} |"),
        (f"| predict {result['n_faces']:,} faces, s | {median('predict_s', 'serial')} | "
         f"{median('predict_s', 'dask')} | {ratio('predict_s'):.2f} |"),
        (f"| faces/s | {median('faces_per_s', 'serial'):.0f} | "
         f"{median('faces_per_s', 'dask'):.0f} | |"),
        (f"| resident memory, start->peak | this process {serial_memory['start']}->"
         f"{serial_memory['peak']} MiB | each worker: {memory} | |"),
    ]
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n-faces", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=2048)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    result = {"date": datetime.date.today().isoformat(), "machine": machine_info(),
              "torch_threads_serial": torch.get_num_threads(), "n_faces": args.n_faces,
              "n_fits": 12, "args": vars(args)}
    X, y, source = _faces("Training", args.n_train)
    train = (X[:args.n_train], y[:args.n_train])
    public, _, face_source = _faces("PublicTest", args.n_faces)
    result["data"] = {"search": f"{args.n_train} {source} faces", "predict": face_source}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        faces_path = tmp / "faces.npy"
        np.save(faces_path, np.resize(public, (args.n_faces, *public.shape[1:])))
        start = time.perf_counter()
        with dask_client(n_workers=2) as client:
            client.run(importlib.import_module, "fer_sklearn.pipeline")
            result["cluster_start_s"] = round(time.perf_counter() - start, 1)
            rounds = []
            for i in range(args.rounds):
                rounds.append(_round(client, args, train, faces_path, tmp))
                print(f"round {i + 1}: {rounds[-1]}", flush=True)
    result["rounds"] = rounds
    result["machine"]["load_average_at_end"] = list(psutil.getloadavg())
    write_results(args.out, result, _table(rounds, result),
                  f"{result['date']}, {result['machine']['cpu_model']}, "
                  f"{result['machine']['cpu_count']} cores; cluster start "
                  f"{result['cluster_start_s']} s (not in the times)")


if __name__ == "__main__":
    main()

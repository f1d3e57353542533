"""Side by side with the PyPI ``fer`` package on the same composed photos.

What it does
------------
1. Composes ``--n-photos`` (default 200) 640x480 JPEG photos (quality 90), each
   with one FER2013 **PublicTest** face pasted at a known box (110-180 px,
   :func:`fer_sklearn.datasets.compose_photo`), so the true box and the FER2013
   label of every photo are known.
2. Runs fer-sklearn's ``EmotionRecognizer(detector=...)`` (model
   ``load_pretrained()``, ``--detector``: BlazeFace by default, or the Haar
   cascade, default settings, one PyTorch thread) on each file, one photo at a
   time: ``recognizer.analyze(path)``, then on all of them batched:
   ``recognizer.analyze_many(paths, batch_size=32)`` (its photos read and
   searched by one thread per core). The results table below (2026-11-26) is
   from before BlazeFace, with the Haar cascade; ``bench_detectors.py`` compares
   the two detectors interleaved in one run.
3. Runs ``fer`` 25.10.3 (``FER(mtcnn=False)``: OpenCV's Haar cascade and its
   bundled emotion model, TensorFlow CPU) on the same files in its own Python
   environment (``--fer-python``, by default ``/tmp/fervenv/bin/python``) through
   ``benchmarks/_fer_runner.py``: ``detector.detect_emotions(cv2.imread(path))``.
   fer 25.x classifies with a quantized TFLite model by default
   (``use_tflite=True``); by default (``--fer-variants tflite,keras``) it also runs its Keras
   ``.hdf5`` model (``use_tflite=False``).
4. Scores both the same way: a face is *found* when a detected box matches the
   true one (its centre inside the true box, its side 0.6-1.6x the true side,
   as in the test suite); *accuracy* is the top emotion of the matched box
   against the FER2013 label, over found faces; *extra boxes* are detections
   matching no face; *agreement* is the share of photos where both found the
   face that get the same top emotion from both. Untimed and apart from
   detection, each tool also classifies the *known* box of every photo (fer:
   ``detect_emotions(img, face_rectangles=[box])``, with its own padding;
   fer-sklearn: ``analyze(box_crop, detect=False)``): *accuracy on true box*
   and *agreement on true box* use all photos, not only the detected ones.
5. Writes ``benchmarks/results/vs_fer.json`` and prints a Markdown table.

With ``--rounds N`` the tools run in turn N times (fer-sklearn, fer, ...), and
the speed table gives the median photos/s and the median of the per-round
ratios against fer; detection and accuracy come from the first round.

Speed is end to end (file decode + detection + crop + classification), one
photo at a time in a single process, timed per photo after a warm-up on the
first photo (model loading is excluded and reported separately). Each tool runs
in its own child process, so its peak memory is its own. The two use different
OpenCV Haar set-ups: fer-sklearn searches a copy downscaled to 320 px
(``max_side=320``), fer the full 640x480 frame (``min_face_size=50``).

Read the accuracy with care
---------------------------
* PublicTest is the split fer-sklearn *selected its model on* (training used
  Training only, but choices were made on PublicTest), so its accuracy here is
  optimistic. PrivateTest would be the honest split (``--usage PrivateTest``),
  but the copy in ``../shared/data/fer2013`` holds only Training and PublicTest.
* fer's model was trained on FER2013 too, possibly including PublicTest.
* The faces are 48x48 FER2013 crops upscaled and pasted on synthetic
  backgrounds, not real photos.
So the accuracies are indicative only; the speed and detection figures are
the more transferable part.

Results (2026-11-26, 2 CPUs, ``benchmarks/results/vs_fer.json``)
-----------------------------------------------------------------
200 photos, seed 0; detection and emotion figures are deterministic, speeds
are not. Run at 09:07 UTC on an idle machine (load average ~2 from a job that
had just ended), everything under ``nice -n 10``:

==============================  ========  =======  ==========  ========  ==========  =========
tool                            photos/s  CPU ms/  recall      accuracy  accuracy    agreement
                                          photo                on found  true box    w/ ours
==============================  ========  =======  ==========  ========  ==========  =========
fer-sklearn (load_pretrained)   89.8      15.5     143/200     0.615     0.610       -
fer 25.10.3, TFLite (default)   91.7      18.5     142/200     0.599     0.565       0.662
fer 25.10.3, Keras .hdf5        30.4      41.1     142/200     0.592     0.570       0.669
==============================  ========  =======  ==========  ========  ==========  =========

(fer: 3 extra boxes over 200 photos, fer-sklearn none; on the 136 photos both
found the face their boxes overlap with mean IoU 0.93, and accuracy there is
0.610 for fer-sklearn, 0.603 / 0.596 for fer.) Speed repeats with another job
holding one core: 62.9 / 55.4 / 26.0 photos/s, and 72.8 / 57.1 / 27.1 while a
model trained; i.e. the end-to-end speed of fer-sklearn and fer's default TFLite
path is about the same, fer's Keras path about 3x slower. Both use the same
OpenCV Haar cascade, hence the same recall (~71%: Haar misses many of the tight
48x48 FER2013 crops). Accuracy differences (1-5 points on 142-200 faces) are
within noise and, given the caveats below, indicative only.

The ``fer`` environment
-----------------------
``fer`` is **not** a dependency of this project. It was installed, only in
a throw-away venv, as::

    python3 -m venv /tmp/fervenv
    /tmp/fervenv/bin/pip install fer==25.10.3 --no-deps
    /tmp/fervenv/bin/pip install tensorflow-cpu==2.21.0 \\
        opencv-python-headless==4.14.0.94 requests Pillow "setuptools<81"

``--no-deps`` because fer 25.10.3 declares facenet-pytorch (a PyTorch download,
used only by ``mtcnn=True``), opencv-contrib-python, moviepy, pandas, tqdm,
matplotlib and ffmpeg-python, none of which ``fer.fer.FER(mtcnn=False)`` needs
for still photos. Same OpenCV build as the project venv, so both use the same
Haar cascade file. Notes found on the way: ``from fer import FER`` fails in
25.10.3 (its ``__init__`` does not re-export it; ``from fer.fer import FER``
works); ``fer`` imports ``pkg_resources`` (setuptools < 81); TensorFlow warns
that ``tf.lite.Interpreter`` is deprecated. The runner refuses and counts every
network connection: ``network_attempts`` in the JSON shows fer downloads nothing.

Run::

    PYTHONPATH=src python benchmarks/bench_vs_fer.py                 # 200 photos, BlazeFace
    PYTHONPATH=src python benchmarks/bench_vs_fer.py --detector haar --out /tmp/haar.json
    PYTHONPATH=src python benchmarks/bench_vs_fer.py --n-photos 10 --out /tmp/t.json
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import write_results  # benchmarks/_results.py

HERE = Path(__file__).resolve().parent
FER2013 = HERE.parents[1] / "shared/data/fer2013/fer2013.csv.gz"
RUNNER = HERE / "_fer_runner.py"


# --------------------------------------------------------------------------- photos
def compose(folder, n_photos, usage, seed):
    """Write the photos and ``truth.json`` (file, box, label) into ``folder``."""
    import numpy as np
    from PIL import Image

    from fer_sklearn import EMOTIONS, load_fer2013
    from fer_sklearn.datasets import compose_photo

    X, y = load_fer2013(FER2013, usage=usage, return_X_y=True)
    keep = np.random.RandomState(seed).permutation(len(X))[:n_photos]
    truth = []
    for i, index in enumerate(keep):
        photo, boxes = compose_photo(X[index][None], random_state=seed * 100_000 + i)
        name = f"photo{i:05d}.jpg"
        Image.fromarray(photo).save(os.path.join(folder, name), quality=90)
        truth.append({"file": name, "box": [int(v) for v in boxes[0]],
                      "label": EMOTIONS[int(y[index])], "fer2013_row_in_split": int(index)})
    with open(os.path.join(folder, "truth.json"), "w") as f:
        json.dump(truth, f)
    with open(os.path.join(folder, "files.json"), "w") as f:
        json.dump([t["file"] for t in truth], f)


# --------------------------------------------------------------------------- fer-sklearn
def run_ours(folder, out, detector="blazeface"):
    """Time ``EmotionRecognizer(detector=...).analyze(path)`` per photo; write a report like the runner's."""
    start = time.perf_counter()
    import cv2
    import torch

    import fer_sklearn
    from fer_sklearn import EmotionRecognizer

    recognizer = EmotionRecognizer(detector=detector)  # load_pretrained(), n_threads=1
    with open(os.path.join(folder, "files.json")) as f:
        names = json.load(f)
    paths = [os.path.join(folder, n) for n in names]
    recognizer.analyze(paths[0])  # warm-up: model load, cascade load, torch kernels
    load_s = time.perf_counter() - start
    results, times = [], []
    cpu_start = time.process_time()
    for name, path in zip(names, paths):
        start = time.perf_counter()
        faces = recognizer.analyze(path)
        times.append(time.perf_counter() - start)
        results.append({"file": name,
                        "faces": [{"box": list(face["box"]), "emotion": face["emotion"],
                                   "scores": face["scores"]} for face in faces]})
    cpu_seconds = time.process_time() - cpu_start
    # the same photos batched: analyze_many reads and searches 32 photos, then classifies their
    # faces in one call (as fer-sklearn predict does)
    start = time.perf_counter()
    batched = list(recognizer.analyze_many(paths, batch_size=32))
    batched_seconds = time.perf_counter() - start
    assert [len(r["faces"]) for r in batched] == [len(r["faces"]) for r in results]
    # classification alone: the known box of each photo, cut out and classified (untimed)
    import numpy as np
    from PIL import Image

    on_truth = []
    with open(os.path.join(folder, "truth.json")) as f:
        for t in json.load(f):
            x, y, w, h = t["box"]
            rgb = np.asarray(Image.open(os.path.join(folder, t["file"])).convert("RGB"))
            faces = recognizer.analyze(rgb[y:y + h, x:x + w], detect=False)
            on_truth.append(faces[0]["emotion"])
    report = {
        "tool": f"fer-sklearn {getattr(fer_sklearn, '__version__', '?')} "
                f"(EmotionRecognizer(detector={detector!r}), load_pretrained('default'))",
        "versions": {"fer_sklearn": getattr(fer_sklearn, "__version__", "?"),
                     "torch": torch.__version__, "opencv": cv2.__version__,
                     "python": sys.version.split()[0]},
        "opencv_threads": cv2.getNumThreads(),
        "torch_threads": recognizer.n_threads,
        "load_s": load_s,  # imports, model load and the warm-up photo
        "seconds": times,
        "cpu_seconds": cpu_seconds,  # all threads of the process, over the timed loop
        "batched_seconds": batched_seconds,  # analyze_many over all photos, batches of 32
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "results": results,
        "emotion_on_true_box": on_truth,
    }
    with open(out, "w") as f:
        json.dump(report, f)


# --------------------------------------------------------------------------- scoring
def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


def matched_faces(report, truth):
    """Per photo: the (largest) detected face matching the known one, or None."""
    from fer_sklearn.datasets._compose import box_matches as matches

    by_file = {r["file"]: r["faces"] for r in report["results"]}
    matched, extra = [], 0
    for t in truth:
        faces = by_file[t["file"]]
        hits = [f for f in faces if matches(t["box"], f["box"])]
        extra += len(faces) - len(hits)
        hit = max(hits, key=lambda f: f["box"][2] * f["box"][3]) if hits else None
        matched.append(hit)
    return matched, extra


def summarize(report, truth):
    import numpy as np

    matched, extra = matched_faces(report, truth)
    emotions = [f["emotion"] if f else None for f in matched]
    found = [e is not None for e in emotions]
    correct = [e == t["label"] for e, t in zip(emotions, truth) if e is not None]
    seconds = np.asarray(report["seconds"])
    on_truth = report.get("emotion_on_true_box") or []
    return {
        "tool": report["tool"],
        "photos": len(truth),
        "photos_per_s": len(seconds) / seconds.sum(),
        "photos_per_s_batched": (len(seconds) / report["batched_seconds"]
                                 if "batched_seconds" in report else None),
        "ms_per_photo_median": 1000 * float(np.median(seconds)),
        "ms_per_photo_p90": 1000 * float(np.percentile(seconds, 90)),
        "cpu_ms_per_photo": 1000 * report["cpu_seconds"] / len(seconds),
        "found": int(sum(found)),
        "recall": float(np.mean(found)),
        "extra_boxes": int(extra),
        "box_iou_with_truth_mean": (float(np.mean([iou(f["box"], t["box"])
                                                   for f, t in zip(matched, truth) if f]))
                                    if any(found) else float("nan")),
        "correct": int(sum(correct)),
        "accuracy_on_found": float(np.mean(correct)) if correct else float("nan"),
        "accuracy_on_true_box": (float(np.mean([e == t["label"] for e, t in zip(on_truth, truth)]))
                                 if on_truth else float("nan")),
        "load_s": report["load_s"],
        "peak_rss_mib": report["peak_rss_mib"],
        "opencv_threads": report.get("opencv_threads"),
        "versions": report["versions"],
        **({"network_attempts": report["network_attempts"]}
           if "network_attempts" in report else {}),
    }, matched


def pairwise(ours, theirs, truth, ours_on_truth=(), theirs_on_truth=()):
    boxes = list(zip(ours_on_truth, theirs_on_truth))
    both_faces = [(a, b) for a, b in zip(ours, theirs) if a and b]
    both = [(a["emotion"], b["emotion"], t["label"]) for a, b, t in zip(ours, theirs, truth)
            if a and b]
    n = len(both)
    return {
        "both_found": n,
        "same_top_emotion": sum(a == b for a, b, _ in both),
        "agreement": sum(a == b for a, b, _ in both) / n if n else float("nan"),
        "accuracy_ours_on_both": sum(a == t for a, _, t in both) / n if n else float("nan"),
        "accuracy_fer_on_both": sum(b == t for _, b, t in both) / n if n else float("nan"),
        "box_iou_between_tools_mean": (sum(iou(a["box"], b["box"]) for a, b in both_faces) / n
                                       if n else float("nan")),
        "agreement_on_true_box": (sum(a == b for a, b in boxes) / len(boxes) if boxes
                                  else float("nan")),
    }


def markdown(summaries, pairs):
    lines = ["| tool | photos/s | ms/photo (median) | CPU ms/photo | faces found (recall) | extra boxes "
             "| accuracy on found | accuracy on both-found | accuracy on true box "
             "| agreement with fer-sklearn "
             "| peak RSS MiB | load s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, s in enumerate(summaries):
        pair = pairs[i - 1] if i else None
        acc_both = (f"{pair['accuracy_fer_on_both']:.3f}" if pair else
                    "/".join(f"{p['accuracy_ours_on_both']:.3f}" for p in pairs) or "-")
        agree = (f"{pair['agreement']:.3f} ({pair['same_top_emotion']}/{pair['both_found']}); "
                 f"true box {pair['agreement_on_true_box']:.3f}" if pair else "-")
        lines.append(
            f"| {s['tool']} | {s['photos_per_s']:.1f} | {s['ms_per_photo_median']:.1f} "
            f"| {s['cpu_ms_per_photo']:.1f} "
            f"| {s['found']}/{s['photos']} ({s['recall']:.3f}) | {s['extra_boxes']} "
            f"| {s['accuracy_on_found']:.3f} ({s['correct']}/{s['found']}) | {acc_both} "
            f"| {s['accuracy_on_true_box']:.3f} | {agree} | {s['peak_rss_mib']:.0f} | {s['load_s']:.1f} |")
    lines.append("")
    lines.append("photos/s: end to end (decode + detect + classify), one photo at a time, one "
                 "process; CPU ms/photo counts all its threads. Recall: known face matched by a detected box. Accuracy on found: "
                 "top emotion of the matched box vs the FER2013 label. Accuracy on both-found: "
                 "the same over photos where both tools found the face (fer-sklearn's row: one "
                 "value per fer row). Accuracy on true box: each tool classifies the known box "
                 "of every photo (no detection). Agreement: same top emotion as fer-sklearn on "
                 "photos both found (and on the true boxes).")
    return "\n".join(lines)


def _one_round(args, me, folder, tmp, fer_errors):
    """fer-sklearn, then each fer variant, on the photos of ``folder``: their reports."""
    reports = []
    ours_json = os.path.join(tmp, "ours.json")
    start = time.perf_counter()
    subprocess.run(me + ["--run-ours", folder, ours_json, args.detector], check=True)
    with open(ours_json) as f:
        reports.append(json.load(f))
    print(f"fer-sklearn done in {time.perf_counter() - start:.0f} s", flush=True)
    for variant in [v for v in args.fer_variants.split(",") if v]:
        fer_json = os.path.join(tmp, f"fer_{variant}.json")
        start = time.perf_counter()
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        env.pop("PYTHONPATH", None)
        if not os.path.isfile(args.fer_python):
            fer_errors[variant] = f"no Python at {args.fer_python} (fer not installed?)"
            print(f"fer ({variant}) skipped: {fer_errors[variant]}", file=sys.stderr)
            continue
        proc = subprocess.run([args.fer_python, str(RUNNER), folder, fer_json,
                               "--files", os.path.join(folder, "files.json"),
                               "--truth", os.path.join(folder, "truth.json"),
                               "--variant", variant],
                              capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            fer_errors[variant] = proc.stderr[-3000:]
            print(f"fer ({variant}) failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
            continue
        with open(fer_json) as f:
            reports.append(json.load(f))
        print(f"fer ({variant}) done in {time.perf_counter() - start:.0f} s", flush=True)
    return reports


def speed_rounds(rounds):
    """Per tool: photos/s in each round, and fer-sklearn's per-round ratio against it."""
    import statistics

    def rate(report):  # one photo at a time: the photos over the sum of their times
        return len(report["seconds"]) / sum(report["seconds"])

    rows = []
    ours = [rate(r[0]) for r in rounds]
    batched = [len(r[0]["seconds"]) / r[0]["batched_seconds"] for r in rounds]
    for i, report in enumerate(rounds[0][1:], start=1):
        theirs = [rate(r[i]) for r in rounds if len(r) > i]
        rows.append({"fer": report["tool"], "fer_photos_per_s": theirs,
                     "ours_photos_per_s": ours, "ours_batched_photos_per_s": batched,
                     "ratio_one_at_a_time": statistics.median(a / b for a, b in zip(ours, theirs)),
                     "ratio_batched": statistics.median(a / b for a, b in zip(batched, theirs))})
    return rows


def speed_markdown(rows, n_rounds):
    import statistics

    lines = [f"| fer-sklearn vs | photos/s, median of {n_rounds} rounds: fer | fer-sklearn, one "
             "at a time | fer-sklearn, `analyze_many` | one at a time / fer | batched / fer |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['fer']} | {statistics.median(row['fer_photos_per_s']):.1f} "
                     f"| {statistics.median(row['ours_photos_per_s']):.1f} "
                     f"| {statistics.median(row['ours_batched_photos_per_s']):.1f} "
                     f"| {row['ratio_one_at_a_time']:.2f} | {row['ratio_batched']:.2f} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-photos", type=int, default=200)
    parser.add_argument("--usage", default="PublicTest",
                        help="FER2013 split the faces come from (default PublicTest)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fer-python", default="/tmp/fervenv/bin/python",
                        help="the Python of the environment where fer is installed")
    parser.add_argument("--fer-variants", default="tflite,keras",
                        help="comma-separated: tflite (fer's default), keras")
    parser.add_argument("--folder", help="keep the photos here (default: a temporary folder)")
    parser.add_argument("--out", default=str(HERE / "results" / "vs_fer.json"))
    parser.add_argument("--compose", help=argparse.SUPPRESS)
    parser.add_argument("--detector", default="blazeface", choices=("blazeface", "haar"),
                        help="fer-sklearn's face detector (default blazeface)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the tools in turn this many times (speed: median of the "
                             "per-round ratios; detection and accuracy from the first round)")
    parser.add_argument("--run-ours", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.compose:
        compose(args.compose, args.n_photos, args.usage, args.seed)
        return 0
    if args.run_ours:
        run_ours(*args.run_ours)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or os.path.join(tmp, "photos")
        os.makedirs(folder, exist_ok=True)
        me = [sys.executable, __file__]
        start = time.perf_counter()
        subprocess.run(me + ["--compose", folder, "--n-photos", str(args.n_photos),
                             "--usage", args.usage, "--seed", str(args.seed)], check=True)
        print(f"composed {args.n_photos} 640x480 photos, one FER2013 {args.usage} face each, "
              f"in {time.perf_counter() - start:.0f} s", flush=True)
        with open(os.path.join(folder, "truth.json")) as f:
            truth = json.load(f)

        rounds = []  # per round: the reports of fer-sklearn, then of each fer variant
        fer_errors = {}
        for round_ in range(args.rounds):
            rounds.append(_one_round(args, me, folder, tmp, fer_errors))

    reports = rounds[0]
    summaries, matched = zip(*(summarize(r, truth) for r in reports))
    pairs = [dict(pairwise(matched[0], e, truth, reports[0].get("emotion_on_true_box") or [],
                           r.get("emotion_on_true_box") or []), fer=s["tool"])
             for s, e, r in zip(summaries[1:], matched[1:], reports[1:])]
    speed = speed_rounds(rounds)
    table = markdown(summaries, pairs) + "\n\n" + speed_markdown(speed, len(rounds))
    result = {
        "photos": {"n": len(truth), "size": "640x480 JPEG q90", "faces_per_photo": 1,
                   "face_source": f"FER2013 {args.usage}", "seed": args.seed,
                   "face_side_px": [110, 180]},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_at_end": os.getloadavg()},
        "caveats": [
            "PublicTest is the split fer-sklearn selected its model on: its accuracy is "
            "optimistic.",
            "fer's model was also trained on FER2013, possibly including PublicTest.",
            "Faces are upscaled 48x48 FER2013 crops on synthetic backgrounds: accuracy is "
            "indicative only.",
        ],
        "summaries": summaries,
        "agreement": pairs,
        "speed_rounds": speed,
        "fer_errors": fer_errors,
        "markdown": table,
    }
    write_results(args.out, result, table,
                  "PublicTest is the split fer-sklearn selected its model on (optimistic for it); "
          "fer's model was trained on FER2013 too (possibly including PublicTest): accuracy "
          "is indicative only.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

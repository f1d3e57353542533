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
   searched by one thread per core). The first results (2026-11-26, in
   ``docs/guide/performance.md``) are from before BlazeFace, with the Haar cascade;
   ``bench_detectors.py`` compares the two detectors interleaved in one run.
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
ratios against fer; detection and accuracy come from the first round. With
``--before REF`` the fer-sklearn of an earlier commit runs too, after the
current one in each round (its ``src`` taken out of git and imported first), and
appears as one more tool: the ratio of its row is now against then.

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

Results and their history: ``docs/guide/performance.md`` and ``factory/RUNS.md``.

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
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from _photo_scoring import pairwise, speed_rounds, summarize
from _results import markdown_table, write_results  # benchmarks/_results.py

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "_fer_runner.py"
OURS_RUNNER = HERE / "_ours_runner.py"
CAVEATS = [
    "PublicTest is the split fer-sklearn selected its model on: its accuracy is optimistic.",
    "fer's model was also trained on FER2013, possibly including PublicTest.",
    "Faces are upscaled 48x48 FER2013 crops on synthetic backgrounds: accuracy is indicative only.",
]
COLUMNS = (
    "photos/s: end to end (decode + detect + classify), one photo at a time, one process; CPU "
    "ms/photo counts all its threads. Recall: known face matched by a detected box. Accuracy on "
    "found: top emotion of the matched box vs the FER2013 label. Accuracy on both-found: the same "
    "over photos where both tools found the face (fer-sklearn's row: one value per fer row). "
    "Accuracy on true box: each tool classifies the known box of every photo (no detection). "
    "Agreement: same top emotion as fer-sklearn on photos both found (and on the true boxes).")


# --------------------------------------------------------------------------- photos
def compose(folder, n_photos, usage, seed):
    """Write the photos and ``truth.json`` (file, box, label) into ``folder``."""
    import numpy as np
    from PIL import Image

    from fer_sklearn import EMOTIONS, load_fer2013
    from fer_sklearn.datasets import compose_photo, fer2013_file

    X, y = load_fer2013(fer2013_file(), usage=usage, return_X_y=True)
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


def markdown(summaries, pairs):
    """The detection and accuracy table, one row per tool, and what its columns mean."""
    cells = []
    for i, s in enumerate(summaries):
        pair = pairs[i - 1] if i else None
        cells.append({
            "tool": s["tool"], "photos/s": f"{s['photos_per_s']:.1f}",
            "ms/photo (median)": f"{s['ms_per_photo_median']:.1f}",
            "CPU ms/photo": f"{s['cpu_ms_per_photo']:.1f}",
            "faces found (recall)": f"{s['found']}/{s['photos']} ({s['recall']:.3f})",
            "extra boxes": str(s["extra_boxes"]),
            "accuracy on found": f"{s['accuracy_on_found']:.3f} ({s['correct']}/{s['found']})",
            "accuracy on both-found": (f"{pair['accuracy_fer_on_both']:.3f}" if pair else "/".join(
                f"{p['accuracy_ours_on_both']:.3f}" for p in pairs) or "-"),
            "accuracy on true box": f"{s['accuracy_on_true_box']:.3f}",
            "agreement with fer-sklearn": (
                f"{pair['agreement']:.3f} ({pair['same_top_emotion']}/{pair['both_found']}); "
                f"true box {pair['agreement_on_true_box']:.3f}" if pair else "-"),
            "peak RSS MiB": f"{s['peak_rss_mib']:.0f}", "load s": f"{s['load_s']:.1f}"})
    return markdown_table(cells) + "\n\n" + COLUMNS


def _one_round(args, folder, tmp, fer_errors):
    """fer-sklearn, then each fer variant, on the photos of ``folder``: their reports."""
    reports = []
    ours_json = os.path.join(tmp, "ours.json")
    start = time.perf_counter()
    subprocess.run([sys.executable, str(OURS_RUNNER), folder, ours_json, args.detector],
                   check=True)
    with open(ours_json) as f:
        reports.append(json.load(f))
    print(f"fer-sklearn done in {time.perf_counter() - start:.0f} s", flush=True)
    if args.before:  # the code of an earlier commit, run the same way
        before_json = os.path.join(tmp, "before.json")
        env = dict(os.environ, PYTHONPATH=os.path.join(tmp, "before", "src"))
        subprocess.run([sys.executable, str(OURS_RUNNER), folder, before_json, args.detector],
                       check=True, env=env)
        with open(before_json) as f:
            report = json.load(f)
        report["tool"] = report["tool"].replace("fer-sklearn", f"fer-sklearn at {args.before}")
        reports.append(report)
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


def speed_markdown(rows, n_rounds):
    """The speed table: photos/s per tool, median over rounds, and the per-round ratios."""
    return markdown_table({
        "fer-sklearn vs": row["fer"],
        f"photos/s, median of {n_rounds} rounds: fer":
            f"{statistics.median(row['fer_photos_per_s']):.1f}",
        "fer-sklearn, one at a time": f"{statistics.median(row['ours_photos_per_s']):.1f}",
        "fer-sklearn, `analyze_many`": f"{statistics.median(row['ours_batched_photos_per_s']):.1f}",
        "one at a time / fer": f"{row['ratio_one_at_a_time']:.2f}",
        "batched / fer": f"{row['ratio_batched']:.2f}"} for row in rows)


# --------------------------------------------------------------------------- main
def parse_args(argv):
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
    parser.add_argument("--before", default=None,
                        help="a git commit whose fer-sklearn to run too, in each round (its "
                             "speed against fer and against now, in the same run)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the tools in turn this many times (speed: median of the "
                             "per-round ratios; detection and accuracy from the first round)")
    return parser.parse_args(argv)


def run_rounds(args, tmp):
    """Compose the photos (in a child process), then run the tools in turn ``--rounds`` times.

    Returns the truth of the photos, per round the reports of fer-sklearn then of each fer
    variant, and the errors of the fer variants that did not run.
    """
    folder = args.folder or os.path.join(tmp, "photos")
    os.makedirs(folder, exist_ok=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--compose", folder, "--n-photos", str(args.n_photos),
                    "--usage", args.usage, "--seed", str(args.seed)], check=True)
    print(f"composed {args.n_photos} 640x480 photos, one FER2013 {args.usage} face each, "
          f"in {time.perf_counter() - start:.0f} s", flush=True)
    with open(os.path.join(folder, "truth.json")) as f:
        truth = json.load(f)
    fer_errors = {}
    if args.before:  # its src, out of git, for _ours_runner.py to import in its own process
        archive = subprocess.run(["git", "archive", args.before, "src"], cwd=HERE.parent,
                                 check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(os.path.join(tmp, "before"), filter="data")
    rounds = [_one_round(args, folder, tmp, fer_errors) for _ in range(args.rounds)]
    return truth, rounds, fer_errors


def main(argv=None):
    args = parse_args(argv)
    if args.compose:
        compose(args.compose, args.n_photos, args.usage, args.seed)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        truth, rounds, fer_errors = run_rounds(args, tmp)
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
        "caveats": CAVEATS, "summaries": summaries, "agreement": pairs, "speed_rounds": speed,
        "fer_errors": fer_errors, "markdown": table,
    }
    write_results(args.out, result, table, " ".join(CAVEATS))
    return 0


if __name__ == "__main__":
    sys.exit(main())

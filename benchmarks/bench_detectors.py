"""BlazeFace against the Haar cascade on composed photos: recall, false boxes, speed, accuracy.

What it does
------------
1. Composes ``--n-photos`` 640x480 JPEG photos (quality 90) with one FER2013
   face each, pasted at a known square (110-180 px), as ``bench_vs_fer.py``
   does (same photos for the same ``--seed``), and as many photos with three
   faces each (80-130 px, every other one rotated up to 10 degrees).
2. For every photo, times ``EmotionRecognizer(detector=d).analyze(path)`` (read,
   detect, crop, classify with ``load_pretrained(--pretrained)``, one thread) for each
   detector, the two **interleaved photo by photo** (the order alternating), so
   both see the same load on this shared machine; photos/s is photos over the
   summed time of each.
3. Scores each detector: a face is *found* when a detected box matches its
   square (centre inside, side 0.6-1.6x: :func:`fer_sklearn.datasets._compose.box_matches`);
   *false boxes* match no face; *accuracy on detected* is the emotion of the
   matched box against the FER2013 label over found faces, and *accuracy on
   true boxes* classifies the pasted square itself (``analyze(crop,
   detect=False)``), over the same found faces and over all faces.
4. Writes ``benchmarks/results/detectors.json`` and prints a Markdown table.

PublicTest is the split the shipped model was selected on: the accuracies are
optimistic and indicative only; the gap between detected and true boxes is the
point. Run::

    .venv/bin/python benchmarks/bench_detectors.py                 # 200 + 200 photos
    .venv/bin/python benchmarks/bench_detectors.py --n-photos 20 --out /tmp/d.json
    .venv/bin/python benchmarks/bench_detectors.py --pretrained fast \
        --out benchmarks/results/detectors_fast.json        # and --pretrained accurate
    .venv/bin/python benchmarks/bench_detectors.py --full-decode \
        --out benchmarks/results/detectors_full_decode.json  # JPEGs decoded whole
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from _results import markdown_table, write_results  # benchmarks/_results.py
from bench_vs_fer import compose
from PIL import Image

from fer_sklearn import EMOTIONS, EmotionRecognizer, load_fer2013, load_pretrained
from fer_sklearn.datasets import compose_photo, fer2013_file
from fer_sklearn.datasets._compose import box_matches

HERE = Path(__file__).resolve().parent
FER2013 = fer2013_file()
DETECTORS = ("haar", "blazeface")


def compose_groups(folder, n_photos, seed):
    """Photos of three PublicTest faces each; their truth as ``{file, boxes, labels}``."""
    X, y = load_fer2013(FER2013, usage="PublicTest", return_X_y=True)
    order = np.random.RandomState(seed + 1).permutation(len(X))
    truth = []
    for i in range(n_photos):
        index = order[3 * i:3 * i + 3]
        photo, boxes = compose_photo(X[index], face_sizes=(80, 130),
                                     rotate=10.0 if i % 2 else 0.0,
                                     random_state=seed * 100_000 + 50_000 + i)
        name = f"group{i:05d}.jpg"
        Image.fromarray(photo).save(os.path.join(folder, name), quality=90)
        truth.append({"file": name, "boxes": [[int(v) for v in b] for b in boxes],
                      "labels": [EMOTIONS[int(y[k])] for k in index]})
    return truth


def measure(folder, truth, model):
    """Interleaved timing and the faces of every photo, for each detector."""
    recognizers = {d: EmotionRecognizer(model, detector=d) for d in DETECTORS}
    paths = [os.path.join(folder, t["file"]) for t in truth]
    for recognizer in recognizers.values():
        recognizer.analyze(paths[0])  # warm-up: cascade, network, torch kernels
    seconds = {d: 0.0 for d in DETECTORS}
    faces = {d: [] for d in DETECTORS}
    for i, path in enumerate(paths):
        for d in (DETECTORS if i % 2 else DETECTORS[::-1]):
            start = time.perf_counter()
            found = recognizers[d].analyze(path)
            seconds[d] += time.perf_counter() - start
            faces[d].append(found)
    on_truth = []  # the emotion of each pasted square, classified without detection
    for t, path in zip(truth, paths):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        on_truth.append([recognizers["haar"].analyze(rgb[y:y + h, x:x + w], detect=False)[0]
                         ["emotion"] for x, y, w, h in t["boxes"]])
    return seconds, faces, on_truth


def score(truth, found, on_truth):
    """Recall, false boxes and accuracies of one detector's faces."""
    n_faces = hits = false = correct = correct_truth_found = correct_truth = 0
    false_found = []
    for t, faces, truth_emotions in zip(truth, found, on_truth):
        used = set()
        for box, label, emotion_truth in zip(t["boxes"], t["labels"], truth_emotions):
            n_faces += 1
            correct_truth += emotion_truth == label
            match = [i for i, f in enumerate(faces) if i not in used and box_matches(box, f["box"])]
            if match:
                used.add(match[0])
                hits += 1
                correct += faces[match[0]]["emotion"] == label
                correct_truth_found += emotion_truth == label
        false += len(faces) - len(used)
        false_found += [{"file": t["file"], "box": list(f["box"]), "truth": t["boxes"]}
                        for i, f in enumerate(faces) if i not in used]
    return {"faces": n_faces, "found": hits, "recall": hits / n_faces, "false_boxes": false,
            "accuracy_on_detected": correct / hits if hits else float("nan"),
            "accuracy_on_true_boxes_of_found": correct_truth_found / hits if hits else float("nan"),
            "accuracy_on_true_boxes_all": correct_truth / n_faces, "false_found": false_found}


def markdown(rows):
    return markdown_table({
        "photos": r["photos"], "detector": r["detector"],
        "photos/s": f"{r['photos_per_s']:.1f}",
        "recall": f"{r['found']}/{r['faces']} ({r['recall']:.3f})",
        "false boxes": str(r["false_boxes"]),
        "accuracy on detected": f"{r['accuracy_on_detected']:.3f}",
        "accuracy on true boxes (same faces)": f"{r['accuracy_on_true_boxes_of_found']:.3f}",
        "accuracy on true boxes (all)": f"{r['accuracy_on_true_boxes_all']:.3f}"} for r in rows)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-photos", type=int, default=200,
                        help="photos with one face, and as many with three")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pretrained", default="default", choices=("default", "fast", "accurate"),
                        help="the shipped model that classifies the faces")
    parser.add_argument("--out", default=str(HERE / "results" / "detectors.json"))
    parser.add_argument("--full-decode", action="store_true",
                        help="decode every JPEG whole, as before 83b76d1 (to measure what the "
                             "reduced decoding of the recognizer changes)")
    return parser.parse_args(argv)


def measure_both(args, model):
    """The rows of the table: each detector on the one-face and the three-face photos."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        compose(folder, args.n_photos, "PublicTest", args.seed)
        with open(os.path.join(folder, "truth.json")) as f:
            single = [{"file": t["file"], "boxes": [t["box"]], "labels": [t["label"]]}
                      for t in json.load(f)]
        groups = compose_groups(folder, args.n_photos, args.seed)
        for name, truth in (("one face, 110-180 px", single), ("three faces, 80-130 px", groups)):
            seconds, found, on_truth = measure(folder, truth, model)
            for d in DETECTORS:
                rows.append({"photos": f"{len(truth)} x {name}", "detector": d,
                             "photos_per_s": len(truth) / seconds[d],
                             **score(truth, found[d], on_truth)})
            print(markdown(rows[-2:]), flush=True)
    return rows


def main(argv=None):
    args = parse_args(argv)
    if args.full_decode:  # the least decoding scale of read_photo, forced to 1
        import fer_sklearn.faces._detect as detect_module

        detect_module.least_scale = lambda *args, **kwargs: 1.0

    rows = measure_both(args, load_pretrained(args.pretrained))
    table = markdown(rows)
    result = {"rows": rows, "seed": args.seed, "model": f"load_pretrained({args.pretrained!r})",
              "full_decode": args.full_decode,
              "versions": {"opencv": cv2.__version__, "torch": torch.__version__},
              "markdown": table}
    write_results(args.out, result, table,
                  "FER2013 PublicTest faces (the split the model was selected on): accuracies "
                  "are indicative; photos/s interleaved photo by photo in one process.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

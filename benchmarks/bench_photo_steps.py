"""Where the milliseconds of one photo go: decode, detection, crop, classification.

    .venv/bin/python benchmarks/bench_photo_steps.py [--n-photos 200] [--detector blazeface]

Composes ``--n-photos`` 640x480 JPEGs (quality 90), each with one FER2013
PublicTest face pasted at 110-180 px (as ``bench_vs_fer.py`` does; synthetic
faces without ``../shared``), then times each step of
``EmotionRecognizer.analyze(path)`` separately, photo by photo, with the
recognizer's own settings and steps (one torch thread, ``load_pretrained()``):
reading and decoding the file (EXIF orientation, grayscale and the detector's
copy; a JPEG at the reduced scale detection and crops allow), finding the faces
(BlazeFace: one pass of the network over the whole photo), cutting the
crops framed like FER2013 and classifying them (``predict_proba``, one call per
photo). Prints the median and mean milliseconds of each step and its share
of the total, and writes ``--out`` (default ``benchmarks/results/photo_steps.json``).
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _results import markdown_table, write_results
from PIL import Image

from fer_sklearn import EmotionRecognizer, load_fer2013, make_faces
from fer_sklearn.datasets import compose_photo, fer2013_file

HERE = Path(__file__).resolve().parent
FER2013 = fer2013_file()


def _faces(n):
    if FER2013.is_file():
        X, _ = load_fer2013(FER2013, usage="PublicTest", return_X_y=True)
        return X[np.random.RandomState(0).permutation(len(X))[:n]], "FER2013 PublicTest"
    return make_faces(n, random_state=0)[0], "synthetic (make_faces)"


def _photos(folder, n):
    faces, source = _faces(n)
    paths = []
    for i, face in enumerate(faces):
        photo, _ = compose_photo(face[None], random_state=i)
        paths.append(os.path.join(folder, f"photo{i:04d}.jpg"))
        Image.fromarray(photo).save(paths[-1], quality=90)
    return paths, source


def _steps(recognizer, model, path):
    r = recognizer
    times = {}
    start = time.perf_counter()
    photo = r._read(path)
    times["decode"] = time.perf_counter() - start
    start = time.perf_counter()
    boxes = [face["box"] for face in r._find(photo)]
    times["detect"] = time.perf_counter() - start
    start = time.perf_counter()
    crops = r._crops(photo, boxes)
    times["crop"] = time.perf_counter() - start
    start = time.perf_counter()
    if crops:
        with r._torch_threads():
            model.predict_proba(np.stack(crops))
    times["classify"] = time.perf_counter() - start
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-photos", type=int, default=200)
    parser.add_argument("--detector", default="blazeface", choices=("blazeface", "haar"))
    parser.add_argument("--out", default=str(HERE / "results" / "photo_steps.json"))
    args = parser.parse_args(argv)
    recognizer = EmotionRecognizer(detector=args.detector)
    with tempfile.TemporaryDirectory() as tmp:
        paths, source = _photos(tmp, args.n_photos)
        recognizer.analyze(paths[0])  # loads the model and the detector
        model = recognizer.model_
        runs = [_steps(recognizer, model, p) for p in paths]
        start = time.perf_counter()
        for p in paths:
            recognizer.analyze(p)
        whole = (time.perf_counter() - start) / len(paths)
    steps = ["decode", "detect", "crop", "classify"]
    total = sum(statistics.mean(r[s] for r in runs) for s in steps)
    summary, rows = {}, []
    for s in steps:
        values = [r[s] * 1000 for r in runs]
        summary[s] = {"median_ms": statistics.median(values), "mean_ms": statistics.mean(values)}
        rows.append([s, f"{summary[s]['median_ms']:.2f}", f"{summary[s]['mean_ms']:.2f}",
                     f"{summary[s]['mean_ms'] / 1000 / total:.0%}"])
    rows.append(["sum of the steps", "", f"{total * 1000:.2f}", ""])
    rows.append(["`analyze(path)` as a whole", "", f"{whole * 1000:.2f}", ""])
    header = ["step", "ms/photo, median", "ms/photo, mean", "share"]
    result = {"n_photos": len(paths), "faces": source, "detector": args.detector,
              "torch_threads": recognizer.n_threads, "steps": summary,
              "analyze_mean_ms": whole * 1000}
    write_results(args.out, result, markdown_table(dict(zip(header, row)) for row in rows),
                  f"{len(paths)} 640x480 JPEGs, one {source} face each; {args.detector}; "
                  f"one torch thread (the recognizer's default)")


if __name__ == "__main__":
    main()

"""End-to-end speed on photos: decode, detect, crop, classify.

Two measurements on 640x480 JPEG photos with one face each (composed from
FER2013 faces with :func:`fer_sklearn.datasets.compose_photo`, or from
:func:`fer_sklearn.make_faces` where FER2013 is absent):

1. ``EmotionRecognizer.analyze(path)`` one photo at a time (photos/s);
2. ``EmotionRecognizer.analyze_many(paths, batch_size=...)`` over a folder of
   ``--n-photos`` photos (photos/s), sampling the process's resident memory
   every 100 photos to show it stays flat, and its peak.

Writes ``--out`` (default ``benchmarks/results/photos.json``) and prints a Markdown table.

The model is ``--model`` (a joblib file of a fitted pipeline), else
``fer_sklearn.load_pretrained()`` where it exists, else (``--quick-model``, or
when neither is available) a pipeline with the default EmotionCNN (width 32,
depth 4) trained for one epoch on a few hundred faces: its accuracy is
irrelevant, its cost per face is that of the real model.

Run::

    python benchmarks/bench_photos.py --n-photos 1000
    python benchmarks/bench_photos.py --n-photos 1000 --detector haar
    python benchmarks/bench_photos.py --model model.joblib --folder my_photos/

Side by side with the ``fer`` package
-------------------------------------
``benchmarks/bench_detectors.py`` compares the two detectors (BlazeFace, the
Haar cascade) on composed photos, interleaved photo by photo: recall, false
boxes, photos/s and the accuracy on detected against true boxes.

See ``benchmarks/bench_vs_fer.py``: PyPI ``fer`` 25.10.3 (TensorFlow CPU, its
default OpenCV Haar detector) on the same composed photos, run in a separate
environment; photos/s, detection recall, accuracy and agreement, written to
``benchmarks/results/vs_fer.json``. Not yet measured: ``fer``'s ``mtcnn=True``
(it needs facenet-pytorch).
"""

import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
from _results import machine_info, markdown_table, write_results  # benchmarks/_results.py
from PIL import Image

from fer_sklearn import (
    EmotionRecognizer,
    load_fer2013,
    load_pretrained,
    make_emotion_pipeline,
    make_faces,
)
from fer_sklearn.datasets import compose_photo, fer2013_file

FER2013 = fer2013_file()
RESULTS = Path(__file__).resolve().parent / "results" / "photos.json"


def rss_mb(field="VmRSS"):
    """Resident memory of this process in MiB (Linux), now or (``"VmHWM"``) at its peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def faces_for_photos(n_faces, seed=0):
    if FER2013.is_file():
        X, y = load_fer2013(FER2013, usage="PublicTest", return_X_y=True)
        keep = np.random.RandomState(seed).permutation(len(X))[:n_faces]
        return X[keep].copy(), y[keep].copy(), "FER2013 PublicTest"
    X, y = make_faces(n_faces, random_state=seed)
    return X, y, "make_faces (FER2013 not found)"


def quick_model(X, y):
    model = make_emotion_pipeline(max_epochs=1, validation_fraction=None, augment=False,
                                  random_state=0)  # default EmotionCNN: width=32, depth=4
    return model.fit(X, y)


def write_photos(faces, folder, n_photos, seed=0):
    for i in range(n_photos):
        photo, _ = compose_photo(faces[i % len(faces)][None], random_state=seed + i)
        Image.fromarray(photo).save(os.path.join(folder, f"photo{i:05d}.jpg"), quality=90)


def prepare(folder, n_photos, train):
    """Write the photos (and a quick model) into ``folder``.

    Run in a child process, so that loading FER2013 and training do not count in
    the memory of the measuring process.
    """
    X, y, source = faces_for_photos(max(n_photos, 300))
    start = time.perf_counter()
    write_photos(X, folder, n_photos)
    print(f"photos: {n_photos} 640x480 JPEGs, one {source} face each "
          f"(composed in {time.perf_counter() - start:.0f} s)")
    if train:
        start = time.perf_counter()
        joblib.dump(quick_model(X[:300], y[:300]), os.path.join(folder, "model.joblib"))
        print(f"model: default EmotionCNN (width 32, depth 4), 1 epoch on 300 faces "
              f"(trained in {time.perf_counter() - start:.0f} s)")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="joblib file of a fitted emotion pipeline")
    parser.add_argument("--quick-model", action="store_true",
                        help="train the 1-epoch default-architecture model instead of "
                             "load_pretrained()")
    parser.add_argument("--folder", help="photos to use instead of composed ones")
    parser.add_argument("--n-photos", type=int, default=1000)
    parser.add_argument("--n-single", type=int, default=200,
                        help="photos analysed one at a time")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-side", type=int, default=320)
    parser.add_argument("--detector", default="blazeface", choices=("blazeface", "haar"))
    parser.add_argument("--threads", type=int, default=1,
                        help="EmotionRecognizer(n_threads=...); 0 keeps PyTorch's setting")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    parser.add_argument("--train", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def model_and_paths(args, tmp):
    """The model (and what it is) and the photos, composed (and trained) in a child process."""
    model, source = args.model, f"joblib file {args.model}"
    if model is None and not args.quick_model:
        model, source = load_pretrained(), "load_pretrained()"
    train = model is None
    if args.folder is None or train:
        n_photos = args.n_photos if args.folder is None else 1
        command = [sys.executable, __file__, "--prepare", tmp, "--n-photos", str(n_photos)]
        subprocess.run(command + (["--train"] if train else []), check=True)
    if train:
        model, source = os.path.join(tmp, "model.joblib"), "the quick one above"
    folder = args.folder or tmp
    paths = sorted(p for p in glob.glob(os.path.join(folder, "*"))
                   if os.path.isfile(p) and not p.endswith(".joblib"))[:args.n_photos]
    return model, source, paths


def one_at_a_time(recognizer, paths):
    """``analyze(path)`` on each photo: photos/s and the photos with a face."""
    start = time.perf_counter()
    found = sum(bool(recognizer.analyze(p)) for p in paths)
    elapsed = time.perf_counter() - start
    print(f"analyze(path), one at a time: {len(paths) / elapsed:.1f} photos/s "
          f"({1000 * elapsed / len(paths):.1f} ms/photo; a face found in {found}/{len(paths)})")
    return {"photos": len(paths), "photos_per_s": len(paths) / elapsed, "with_a_face": found}


def batched(recognizer, paths, batch_size):
    """``analyze_many`` over all photos: photos/s, statuses, resident memory every tenth."""
    samples, statuses = [], {}
    start = time.perf_counter()
    for i, record in enumerate(recognizer.analyze_many(paths, batch_size=batch_size)):
        statuses[record["status"]] = statuses.get(record["status"], 0) + 1
        if (i + 1) % max(1, len(paths) // 10) == 0:
            samples.append((i + 1, rss_mb()))
    elapsed = time.perf_counter() - start
    print(f"analyze_many(batch_size={batch_size}): {len(paths) / elapsed:.1f} photos/s "
          f"over {len(paths)} photos; statuses {statuses}")
    return {"photos": len(paths), "photos_per_s": len(paths) / elapsed, "statuses": statuses,
            "rss_mib_after_n_photos": samples}


def main(argv=None):
    args = parse_args(argv)
    if args.prepare:
        prepare(args.prepare, args.n_photos, args.train)
        return 0
    machine = machine_info()
    with tempfile.TemporaryDirectory() as tmp:
        model, model_source, paths = model_and_paths(args, tmp)
        recognizer = EmotionRecognizer(model, max_side=args.max_side, detector=args.detector,
                                       n_threads=args.threads or None)
        print(f"model: {model_source}; detector: {args.detector}; {len(paths)} photos from "
              f"{args.folder or 'above'}; CPU {machine['cpu_model']}, {machine['cpu_count']} "
              f"cores, load average {(machine['load_average'] or ['?'])[0]}")
        recognizer.analyze(paths[0])  # warm-up: model load, detector load, torch kernels
        base = rss_mb()
        single = one_at_a_time(recognizer, paths[:args.n_single])
        many = batched(recognizer, paths, args.batch_size)
    result = {"model": model_source, "detector": args.detector, "threads": args.threads,
              "rss_mib_after_warm_up": base, "peak_rss_mib": rss_mb("VmHWM"),
              "analyze": single, "analyze_many": dict(many, batch_size=args.batch_size)}
    table = markdown_table([
        {"mode": "`analyze(path)`, one photo at a time", "photos": single["photos"],
         "photos/s": f"{single['photos_per_s']:.1f}", "resident memory (MiB)": ""},
        {"mode": f"`analyze_many(paths, batch_size={args.batch_size})`", "photos": many["photos"],
         "photos/s": f"{many['photos_per_s']:.1f}",
         "resident memory (MiB)": f"{base:.0f} after warm-up, " + ", ".join(
             f"{mib:.0f} after {n}" for n, mib in many["rss_mib_after_n_photos"])
         + f"; peak {result['peak_rss_mib']:.0f}"}])
    write_results(args.out, result, table,
                  "One process; the peak is this process's high-water mark (VmHWM).",
                  machine=machine)
    return 0


if __name__ == "__main__":
    sys.exit(main())

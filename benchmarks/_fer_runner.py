"""Run the PyPI ``fer`` package over a folder of photos (used by bench_vs_fer.py).

This file is run by the Python of a *separate* environment that has ``fer``
and TensorFlow installed (never the project's environment), e.g.::

    /tmp/fervenv/bin/python benchmarks/_fer_runner.py photos/ out.json --variant tflite

It imports nothing from fer_sklearn. Every network connection is refused (and
counted) for the whole run, so a package that tried to download a model would
fail loudly instead of silently using the network.

For each photo it times ``FER.detect_emotions(cv2.imread(path))`` (decode,
Haar detection, crop, classification), one photo at a time, after a warm-up on
the first photo, and writes the boxes and emotion scores of every photo.
"""

import argparse
import json
import os
import resource
import socket
import sys
import time

NETWORK_ATTEMPTS = []


def _refuse(name):
    def refuse(*args, **kwargs):
        NETWORK_ATTEMPTS.append(f"{name}{args[1:2]!r}")
        raise OSError(f"network disabled by _fer_runner.py ({name})")
    return refuse


def block_network():
    socket.socket.connect = _refuse("connect")
    socket.socket.connect_ex = _refuse("connect_ex")
    socket.getaddrinfo = _refuse("getaddrinfo")
    socket.create_connection = _refuse("create_connection")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("out")
    parser.add_argument("--files", help="JSON list of file names in folder (default: all .jpg)")
    parser.add_argument("--truth", help="JSON list of {file, box}: also classify each known box "
                                        "(detect_emotions(img, face_rectangles=[box]), untimed)")
    parser.add_argument("--variant", choices=("tflite", "keras"), default="tflite",
                        help="FER(use_tflite=True) (fer 25.x's default, quantized) or the "
                             "Keras .hdf5 model (use_tflite=False)")
    args = parser.parse_args(argv)
    block_network()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    import cv2
    import fer
    import numpy as np
    import tensorflow as tf

    # fer 25.10.3's fer/__init__.py no longer re-exports FER: "from fer import FER" fails
    from fer.fer import FER

    detector = FER(mtcnn=False, use_tflite=args.variant == "tflite")

    if args.files:
        with open(args.files) as f:
            names = json.load(f)
    else:
        names = sorted(n for n in os.listdir(args.folder) if n.endswith(".jpg"))
    paths = [os.path.join(args.folder, n) for n in names]

    detector.detect_emotions(cv2.imread(paths[0]))  # warm-up: interpreter, kernels
    load_s = time.perf_counter() - start  # imports, model load and the warm-up photo
    results, times = [], []
    cpu_start = time.process_time()
    for name, path in zip(names, paths):
        start = time.perf_counter()
        faces = detector.detect_emotions(cv2.imread(path))
        times.append(time.perf_counter() - start)
        results.append({
            "file": name,
            "faces": [{"box": [int(v) for v in face["box"]],
                       # scores are rounded to 2 decimals by fer; ties go to the first label
                       "emotion": max(face["emotions"], key=face["emotions"].get),
                       "scores": {k: float(v) for k, v in face["emotions"].items()}}
                      for face in faces],
        })

    cpu_seconds = time.process_time() - cpu_start
    on_truth = []
    if args.truth:
        with open(args.truth) as f:
            for t in json.load(f):
                faces = detector.detect_emotions(cv2.imread(os.path.join(args.folder, t["file"])),
                                                 face_rectangles=[tuple(t["box"])])
                on_truth.append(max(faces[0]["emotions"], key=faces[0]["emotions"].get)
                                if faces else None)

    report = {
        "tool": f"fer {fer.__version__} (FER(mtcnn=False, use_tflite={args.variant == 'tflite'}))",
        "variant": args.variant,
        "versions": {"fer": fer.__version__, "tensorflow": tf.__version__,
                     "opencv": cv2.__version__, "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "opencv_threads": cv2.getNumThreads(),
        "load_s": load_s,
        "seconds": times,
        "cpu_seconds": cpu_seconds,  # all threads of the process, over the timed loop
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "network_attempts": NETWORK_ATTEMPTS,
        "results": results,
        "emotion_on_true_box": on_truth,
    }
    with open(args.out, "w") as f:
        json.dump(report, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())

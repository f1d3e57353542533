"""Time fer-sklearn on ``bench_vs_fer.py``'s photos, the way ``_fer_runner.py`` times fer.

    python benchmarks/_ours_runner.py PHOTO_FOLDER OUT.json [blazeface|haar]

Run by ``bench_vs_fer.py`` in a child process of its own, so that the peak memory
is fer-sklearn's alone and the load time counts the imports, as fer's does.
"""

import json
import os
import resource
import sys
import time


def one_at_a_time(recognizer, names, paths):
    """``analyze(path)`` per photo: its faces, the seconds of each and the CPU seconds of all."""
    results, times = [], []
    cpu_start = time.process_time()
    for name, path in zip(names, paths):
        start = time.perf_counter()
        faces = recognizer.analyze(path)
        times.append(time.perf_counter() - start)
        results.append({"file": name,
                        "faces": [{"box": list(face["box"]), "emotion": face["emotion"],
                                   "scores": face["scores"]} for face in faces]})
    return results, times, time.process_time() - cpu_start


def on_true_boxes(recognizer, folder):
    """The emotion of the known box of each photo, cut out and classified without detection."""
    import numpy as np
    from PIL import Image

    emotions = []
    with open(os.path.join(folder, "truth.json")) as f:
        for t in json.load(f):
            x, y, w, h = t["box"]
            rgb = np.asarray(Image.open(os.path.join(folder, t["file"])).convert("RGB"))
            emotions.append(recognizer.analyze(rgb[y:y + h, x:x + w], detect=False)[0]["emotion"])
    return emotions


def run_ours(folder, out, detector="blazeface"):
    """Time ``EmotionRecognizer(detector=...).analyze(path)`` per photo; write a report like the
    runner's."""
    start = time.perf_counter()
    import cv2  # imported inside the timer: load_s counts them, as _fer_runner.py counts fer's
    import torch

    import fer_sklearn
    from fer_sklearn import EmotionRecognizer

    recognizer = EmotionRecognizer(detector=detector)  # load_pretrained(), n_threads=1
    with open(os.path.join(folder, "files.json")) as f:
        names = json.load(f)
    paths = [os.path.join(folder, n) for n in names]
    recognizer.analyze(paths[0])  # warm-up: model load, detector load, torch kernels
    load_s = time.perf_counter() - start
    results, times, cpu_seconds = one_at_a_time(recognizer, names, paths)
    # the same photos batched: analyze_many reads and searches 32 photos, then classifies their
    # faces in one call (as fer-sklearn predict does)
    start = time.perf_counter()
    batched = list(recognizer.analyze_many(paths, batch_size=32))
    batched_seconds = time.perf_counter() - start
    assert [len(r["faces"]) for r in batched] == [len(r["faces"]) for r in results]
    report = {
        "tool": f"fer-sklearn {fer_sklearn.__version__} "
                f"(EmotionRecognizer(detector={detector!r}), load_pretrained('default'))",
        "versions": {"fer_sklearn": fer_sklearn.__version__, "torch": torch.__version__,
                     "opencv": cv2.__version__, "python": sys.version.split()[0]},
        "opencv_threads": cv2.getNumThreads(),
        "torch_threads": recognizer.n_threads,
        "load_s": load_s,  # imports, model load and the warm-up photo
        "seconds": times,
        "cpu_seconds": cpu_seconds,  # all threads of the process, over the timed loop
        "batched_seconds": batched_seconds,  # analyze_many over all photos, batches of 32
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "results": results,
        "emotion_on_true_box": on_true_boxes(recognizer, folder),  # untimed
    }
    with open(out, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    run_ours(*sys.argv[1:])

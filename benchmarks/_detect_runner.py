"""Run ``detect_faces`` over photo files in a process of its own (used by bench_real_photos.py).

    python benchmarks/_detect_runner.py FILES.json OUT.json

``FILES.json`` maps names to paths. It imports whichever ``fer_sklearn`` the
process finds first: ``bench_real_photos.py --before REF`` sets ``PYTHONPATH`` to
the source tree of an earlier commit, to measure the code as it was in the same
run. Writes ``{"fer_sklearn": its file, "detections": {name: [{box, score}]},
"seconds": {name: s}}``.
"""

import json
import sys
import time


def main(files, out):
    import fer_sklearn
    from fer_sklearn import detect_faces

    with open(files) as f:
        paths = json.load(f)
    detect_faces(next(iter(paths.values())))  # warm up: load the networks
    detections, seconds = {}, {}
    for name, path in paths.items():
        start = time.perf_counter()
        faces = detect_faces(path)
        seconds[name] = time.perf_counter() - start
        detections[name] = [{"box": list(face["box"]), "score": round(face["score"], 4)}
                            for face in faces]
    with open(out, "w") as f:
        json.dump({"fer_sklearn": fer_sklearn.__file__, "detections": detections,
                   "seconds": seconds}, f)


if __name__ == "__main__":
    main(*sys.argv[1:])

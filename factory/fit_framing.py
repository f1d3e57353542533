"""Fit the map from BlazeFace's detections to FER2013's framing (``models/blazeface_framing.json``).

FER2013's 48x48 faces were cut by a face registration of their own: looser than
BlazeFace's boxes and centred higher. To crop a detected face the way FER2013
framed its faces, :func:`fer_sklearn.faces._passes.fer_frames` predicts the
side and centre of the FER2013 frame from BlazeFace's box and its six keypoints
with a linear map (13 numbers per output), fitted here by least squares on
FER2013 **Training** faces (never PublicTest, the benchmark's split) pasted
into photos at known squares with :func:`fer_sklearn.datasets.compose_photo`:
one or three faces per photo, 60-200 px, some rotated up to 10 degrees.

Run::

    .venv/bin/python factory/fit_framing.py            # writes the JSON, prints the fit
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from fer_sklearn import load_fer2013
from fer_sklearn.datasets import compose_photo, fer2013_file
from fer_sklearn.faces._blazeface import raw_detections

ROOT = Path(__file__).resolve().parents[1]
FER2013 = fer2013_file()
OUT = ROOT / "src/fer_sklearn/faces/models/blazeface_framing.json"


def iou(a, b):
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return w * h / (a[2] * a[3] + b[2] * b[3] - w * h)


def samples(X, n_photos, seed):
    """Features (1 + 12 normalised keypoint coordinates) and targets (side, dx, dy) per face."""
    rng = np.random.RandomState(seed)
    order = rng.permutation(len(X))
    features, targets, used = [], [], 0
    for k in range(n_photos):
        count = 1 if k % 2 else 3
        faces = X[order[used:used + count]]
        used += count
        photo, truths = compose_photo(faces, face_sizes=(60, 200) if count == 1 else (60, 150),
                                      rotate=10.0 if k % 4 == 1 else 0.0,
                                      random_state=seed * 100_000 + k)
        boxes, _, points = raw_detections(photo)
        for box, kps in zip(boxes, points):
            side = box[2] - box[0]
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            xywh = (box[0], box[1], side, box[3] - box[1])
            truth = max(truths, key=lambda t: iou(t, xywh))
            if iou(truth, xywh) < 0.2:
                continue
            features.append(np.concatenate([[1.0], ((kps - [cx, cy]) / side).ravel()]))
            targets.append([truth[2] / side, (truth[0] + truth[2] / 2 - cx) / side,
                            (truth[1] + truth[3] / 2 - cy) / side])
    return np.asarray(features), np.asarray(targets)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-photos", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--check", action="store_true",
                        help="refit, and compare the frames it predicts on the held-out faces "
                             "with the shipped table's instead of writing it")
    args = parser.parse_args(argv)
    X, _ = load_fer2013(FER2013, usage="Training", return_X_y=True)
    A, T = samples(X, args.n_photos, args.seed)
    fit = np.arange(len(A)) % 4 != 0  # hold out a quarter to report the fit
    coef, *_ = np.linalg.lstsq(A[fit], T[fit], rcond=None)
    const = np.median(T[fit], axis=0)
    held = ~fit
    for j, name in enumerate(("side ratio", "centre dx", "centre dy")):
        err_const = np.median(np.abs(T[held, j] - const[j]))
        err_linear = np.median(np.abs(T[held, j] - A[held] @ coef[:, j]))
        print(f"{name}: median abs error {err_const:.4f} with a constant, {err_linear:.4f} linear")
    ratio = T[held, 0] / (A[held] @ coef[:, 0])
    print(f"{len(A)} faces ({held.sum()} held out); true/predicted side, 5th-95th percentile: "
          f"{np.percentile(ratio, 5):.3f}-{np.percentile(ratio, 95):.3f}")
    if args.check:
        # the least squares are ill-conditioned (the keypoints move together): compare what the
        # tables predict, not their coefficients
        shipped = np.asarray(json.loads(OUT.read_text())["coef"])
        diff = np.median(np.abs(A[held] @ coef - A[held] @ shipped), axis=0)
        print(f"refit against the shipped table on the held-out faces: median difference of "
              f"side ratio {diff[0]:.4f}, centre dx {diff[1]:.4f}, centre dy {diff[2]:.4f} "
              "(in box sides)")
        return 0 if diff.max() < 0.03 else 1
    coef, *_ = np.linalg.lstsq(A, T, rcond=None)  # final fit on all faces
    Path(args.out).write_text(json.dumps({
        "about": "FER2013 frame (side ratio, centre dx, centre dy, in units of BlazeFace's box "
                 "side) = [1, keypoints relative to the box centre / box side] @ coef; fitted by "
                 "factory/fit_framing.py on FER2013 Training faces",
        "n_faces": int(len(A)), "seed": args.seed,
        "coef": np.round(coef, 6).tolist()}, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

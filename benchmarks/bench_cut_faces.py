"""Emotions of faces cut by the frame: FER2013 PublicTest faces cut on one side, then cropped.

What it does
------------
1. Loads FER2013 **PublicTest** (``../shared/data/fer2013``) and the model
   ``--model`` (a shipped model's name or a model file; default: the shipped
   ``default``).
2. For each cut (``--cuts``, a fraction of the face's side: the face is the
   central part of a FER2013 frame, its side the frame's divided by
   ``FRAME_PER_FACE``, the mean side ratio of ``blazeface_framing.json``) and
   each side (left, right, top, bottom), makes every face a photo that the
   frame cuts there: the 48x48 face with the pixels outside the photo removed,
   and its box reaching past the photo's edge. It is cropped back to 48x48
   with :func:`fer_sklearn.faces.crop_face` (what lies outside filled as the
   package fills it now) and, for comparison, with the edge pixels repeated
   all the way (the package's filling before).
3. Classifies the whole faces and each set of cut faces, and writes the
   accuracies (``--out``) and a Markdown table.

PublicTest is the split the shipped model was selected on, so the whole
faces' accuracy is optimistic; the gap between whole and cut faces is the
figure to read.

Run::

    .venv/bin/python benchmarks/bench_cut_faces.py --out benchmarks/results/cut_faces.json
"""

import argparse
from pathlib import Path

import numpy as np
from _results import machine_info, markdown_table, write_results  # benchmarks/_results.py

from fer_sklearn import load_fer2013
from fer_sklearn.faces import crop_face
from fer_sklearn.pretrained import resolve_model

ROOT = Path(__file__).resolve().parents[1]
FER2013 = ROOT.parent / "shared/data/fer2013/fer2013.csv.gz"
FRAME_PER_FACE = 1.31  # a FER2013 frame's side per BlazeFace face box's side
SIDES = ("left", "right", "top", "bottom")


def outside_pixels(cut, side=48):
    """Pixels of a ``side``-pixel frame outside the photo when ``cut`` of the face is."""
    margin = (FRAME_PER_FACE - 1) / 2  # frame beyond the face on each side, in face sides
    return int(round(side * (margin + cut) / FRAME_PER_FACE))


def cut_photo(face, side, n):
    """The part of a 48x48 face inside a photo that cuts ``n`` pixels off ``side``, and its box.

    The box ``(x, y, w, h)`` is the whole face's, in the cut photo's pixels.
    """
    size = face.shape[0]
    if side == "left":
        return face[:, n:], (-n, 0, size, size)
    if side == "right":
        return face[:, :size - n], (0, 0, size, size)
    if side == "top":
        return face[n:], (0, -n, size, size)
    return face[:size - n], (0, 0, size, size)


def repeated_edges(photo, box):
    """The crop as the package cut it before: the edge pixels repeated all the way."""
    import cv2

    x, y, w, h = box
    pad = max(0, -x, -y, x + w - photo.shape[1], y + h - photo.shape[0])
    padded = cv2.copyMakeBorder(photo, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return padded[y + pad:y + pad + h, x + pad:x + pad + w]


def accuracy(model, crops, labels):
    return float(np.mean(model.predict(np.stack(crops)) == labels))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", default="0.2,0.3", help="fractions of the face outside")
    parser.add_argument("--n-faces", type=int, default=None, help="the first N (default: all)")
    parser.add_argument("--model", default="default",
                        help="a shipped model's name or a model file (default: default)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/cut_faces.json"))
    args = parser.parse_args(argv)
    machine = machine_info()
    model = resolve_model(args.model)
    # the labels as the model's classes are: emotion names (the shipped models) or FER2013 codes
    names = np.asarray(model.classes_).dtype.kind in "OUS"
    X, y = load_fer2013(FER2013, usage="PublicTest", return_X_y=True, as_names=names)
    X, y = X[:args.n_faces], np.asarray(y)[:args.n_faces]
    whole = accuracy(model, list(X), y)
    rows, cells = [], []
    for cut in (float(v) for v in args.cuts.split(",")):
        n = outside_pixels(cut)
        for side in (*SIDES, "mean"):
            if side == "mean":
                now = float(np.mean([r["accuracy"] for r in rows[-4:]]))
                before = float(np.mean([r["accuracy_before"] for r in rows[-4:]]))
            else:
                photos = [cut_photo(face, side, n) for face in X]
                now = accuracy(model, [crop_face(p, b) for p, b in photos], y)
                before = accuracy(model, [repeated_edges(p, b) for p, b in photos], y)
                rows.append({"cut": cut, "side": side, "outside_px": n, "accuracy": now,
                             "accuracy_before": before})
            cells.append({"face cut": f"{cut:.0%} ({n}/48 px of the frame)", "side": side,
                          "accuracy now": f"{now:.3f} ({now - whole:+.3f})",
                          "edge repeated (before)": f"{before:.3f} ({before - whole:+.3f})"})
    table = (f"Whole faces: {whole:.3f} ({len(X)} PublicTest faces, model `{args.model}`)"
             "\n\n" + markdown_table(cells))
    write_results(args.out, {"model": args.model, "n_faces": len(X), "accuracy_whole": whole,
                             "rows": rows}, table,
                  "Accuracy of the top emotion against the FER2013 label; the difference to the "
                  "whole faces in brackets.", machine)


if __name__ == "__main__":
    main()

"""FER2013 with faces cut by the frame: the training set of the cut-face fine-tuning experiment.

Writes a FER2013-format CSV (``emotion,pixels,Usage``, gzipped): every **Training** face
whole, and again cut on one random side (``--fraction`` of them) by 10-40% of the face
and cropped back as :func:`fer_sklearn.faces.crop_face` crops a face the frame cuts
(``bench_cut_faces.py``'s cut); **PublicTest** whole, so that a training on it selects its
epoch on whole faces. Then::

    .venv/bin/python benchmarks/cut_training_set.py /tmp/fer2013_cut.csv.gz
    .venv/bin/fer-sklearn train --data /tmp/fer2013_cut.csv.gz --init default --epochs 2 \
        --threads 2 --out /tmp/cut_finetune
    .venv/bin/python benchmarks/bench_cut_faces.py --cuts 0.3 \
        --model /tmp/cut_finetune/model.safetensors \
        --out benchmarks/results/cut_faces_finetuned.json
"""

import argparse
import gzip

import numpy as np
from bench_cut_faces import FER2013, SIDES, cut_photo, outside_pixels

from fer_sklearn import load_fer2013
from fer_sklearn.faces import crop_face


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the CSV to write (.csv.gz)")
    parser.add_argument("--fraction", type=float, default=0.5,
                        help="share of the Training faces added cut (default 0.5)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.RandomState(args.seed)
    rows = []
    for usage in ("Training", "PublicTest"):
        X, y = load_fer2013(FER2013, usage=usage, return_X_y=True)
        rows += [(face, label, usage) for face, label in zip(X, y)]
        if usage == "Training":
            for i in np.flatnonzero(rng.rand(len(X)) < args.fraction):
                n = outside_pixels(rng.uniform(0.1, 0.4))
                photo, box = cut_photo(X[i], SIDES[rng.randint(len(SIDES))], n)
                rows.append((crop_face(photo, box), y[i], usage))
    with gzip.open(args.out, "wt") as out:
        out.write("emotion,pixels,Usage\n")
        for face, label, usage in rows:
            out.write(f"{label},{' '.join(map(str, face.ravel()))},{usage}\n")
    print(f"wrote {args.out}: {len(rows)} faces")


if __name__ == "__main__":
    main()

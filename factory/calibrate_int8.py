"""Write the int8 activation ranges into the shipped models (``pretrained/weights/*``).

    .venv/bin/python factory/calibrate_int8.py [--models default fast accurate]

For each shipped model: 512 FER2013 Training faces (drawn with ``RandomState(0)``, the
calibration :func:`fer_sklearn.deploy.quantize` uses by default) pass through the model's
preprocessing, and the range of each activation of the network is observed
(``fer_sklearn.neural_net._int8.activation_ranges``) and written with the fingerprint of the
weights it belongs to, into the model's file (its classifier's ``int8_ranges_``, rewritten by
``export_pretrained`` with the same weights, version and metrics: the sha256 stays). Loaded
with the model, they make ``precision="auto"`` predict in int8 on CPUs with VNNI. Rerun it
whenever a model's weights change (the classifier ignores ranges of other weights and predicts
in float32). Prints the share of PublicTest labels the int8 model gives as float32.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from fer_sklearn import load_fer2013, load_model
from fer_sklearn.datasets import fer2013_file
from fer_sklearn.neural_net._int8 import activation_ranges
from fer_sklearn.persistence import read_description
from fer_sklearn.pretrained import WEIGHTS_DIR, export_pretrained


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(fer2013_file()))
    parser.add_argument("--models", nargs="+", default=["default", "fast", "accurate"])
    parser.add_argument("--n-images", type=int, default=512)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR,
                        help="folder of the model files to rewrite (default: the package's)")
    args = parser.parse_args(argv)
    X, _ = load_fer2013(args.data, usage="Training", return_X_y=True)
    faces = X[np.sort(np.random.RandomState(0).choice(len(X), args.n_images, replace=False))]
    test, _ = load_fer2013(args.data, usage="PublicTest", return_X_y=True)
    for name in args.models:
        path = args.weights / f"{name}.safetensors"
        model, document = load_model(path), read_description(path)  # as saved: device "auto"
        clf = model[-1]
        images = clf._images(model[:-1].transform(faces), reset=False)
        clf.int8_ranges_ = activation_ranges(clf.module_, images)
        export_pretrained(model, name, directory=args.weights, version=document.get("version"),
                          metrics=document.get("metrics"))
        if read_description(path)["sha256"] != document["sha256"]:
            raise SystemExit(f"{path}: rewriting it changed its weights")
        model = load_model(path, device="cpu")
        fp32 = model.set_params(clf__precision="32").predict(test)
        int8 = model.set_params(clf__precision="int8").predict(test)
        print(f"{name}: {len(clf.int8_ranges_['ranges'])} ranges; int8 labels as float32 on "
              f"PublicTest: {np.mean(fp32 == int8):.2%}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Export the networks of a ``train_flagship.py`` run into the package's shipped models.

The run's packed files (``RUN/accurate-<i>.safetensors``, ``RUN/students-1.safetensors``)
become the shipped format (:func:`fer_sklearn.pretrained.export_pretrained`: one
safetensors file of ``save_model`` per model, weights in fp16): ``accurate`` the
mean-logit ensemble of ``--accurate`` (default: all the run's members), ``default``
and ``fast`` the students named. Other model files in the folder are removed, and the
total must stay within the 50 MB cap.

    python benchmarks/export_flagship.py runs/flagship3
    python benchmarks/export_flagship.py runs/flagship3 --accurate v64a v64d3 --weights /tmp/w
"""

import argparse
import json
from pathlib import Path

import numpy as np

from fer_sklearn.pipeline import EmotionPipeline
from fer_sklearn.preprocessing import Grayscale, ImageResizer, PixelNormalizer
from fer_sklearn.pretrained._pretrained import WEIGHTS_DIR, export_pretrained
from fer_sklearn.training import read_packed

CAP_BYTES = 50e6


def pipelines(run):
    """Each network of the run as a fitted pipeline (the run's preprocessing, its classifier)."""
    results = json.loads((run / "results.json").read_text())
    norm = results["normalize"]
    networks = read_packed(sorted(run.glob("accurate-*.safetensors"))
                           + sorted(run.glob("students-*.safetensors")))
    steps = [("grayscale", Grayscale()), ("resize", ImageResizer(size=48)),
             ("normalize", PixelNormalizer(mean=norm["mean"], std=norm["std"]))]
    out = {}
    for name, (clf, entry) in networks.items():
        pipe = EmotionPipeline([(n, type(s)(**s.get_params())) for n, s in steps] + [("clf", clf)])
        pipe[:-1].fit(np.full((1, 48, 48), 255, dtype=np.uint8))  # mean and std are given
        out[name] = (pipe, entry)
    return out, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="OUT folder of train_flagship.py")
    parser.add_argument("--accurate", nargs="+", help="members of accurate (default: all)")
    parser.add_argument("--default", default="default")
    parser.add_argument("--fast", default="fast")
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args(argv)
    networks, results = pipelines(args.run)
    members = args.accurate or list(results["members"])
    models = {"accurate": members, "default": [args.default], "fast": [args.fast]}
    for model, names in models.items():
        scores = {n: {k: networks[n][1].get(k) for k in ("public_test_accuracy", "n_epochs",
                                                         "images_per_s", "tflops", "network")}
                  for n in names}
        export_pretrained([networks[n][0] for n in names], model, directory=args.weights,
                          version=(results["machine"].get("date") or "")[:10] or None,
                          metrics={"members": scores, "machine": results["machine"],
                                   "recipe": "benchmarks/train_flagship.py"})
    keep = {f"{m}.safetensors" for m in models}
    total = 0
    for path in sorted(args.weights.iterdir()):
        if path.suffix in (".json", ".int8", ".safetensors") and path.name not in keep:
            path.unlink()
            continue
        total += path.stat().st_size
        print(f"{path}  {path.stat().st_size / 1e6:.2f} MB")
    print(f"total {total / 1e6:.2f} MB (cap {CAP_BYTES / 1e6:.0f} MB)")
    if total > CAP_BYTES:
        raise SystemExit("the exported weights pass the 50 MB cap")
    return total


if __name__ == "__main__":
    main()

"""Export the models of a ``train_device.py`` run into the package's weights.

Each network of the run (``RUN/<name>.safetensors``: fp16 weights, settings and
scores in the metadata) becomes a fitted pipeline, and each shipped model name is
written by ``export_pretrained`` as one safetensors file of ``save_model``
(``<model>.safetensors``, weights in fp16, the run's date as the model's version,
the sha256 of its weights and the run's scores in its description):

    python benchmarks/export_device.py runs/device1 \\
        --accurate m40 m40p3 m32d3 --default s24 --fast s16

``accurate`` is the mean-logit ensemble of its members; ``default`` and ``fast``
are single distilled networks. Other model files in the weights folder are removed,
so that only the three models ship. Their int8 ranges are then out of date: run
``benchmarks/calibrate_int8.py`` afterwards.
"""

import argparse
import json
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.torch import load_file

from fer_sklearn import EMOTIONS, EmotionClassifier, EmotionCNN
from fer_sklearn.pipeline import EmotionPipeline
from fer_sklearn.preprocessing import Grayscale, ImageResizer, PixelNormalizer
from fer_sklearn.pretrained._pretrained import WEIGHTS_DIR, export_pretrained

SUMMARY = ("public_test_accuracy", "best_epoch", "n_epochs", "train_seconds", "seconds_per_epoch",
           "images_per_s", "params", "precision", "teachers")


def read_network(path):
    """Weights and settings of one network file written by ``train_device.py``."""
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["fer_sklearn"])
    return load_file(str(path)), meta


def pipeline_of(state, meta):
    """The fitted pipeline of one network: the run's preprocessing, then its classifier."""
    normalize = meta["normalize"]
    steps = [("grayscale", Grayscale()), ("resize", ImageResizer(size=48)),
             ("normalize", PixelNormalizer(mean=normalize["mean"], std=normalize["scale"],
                                           pixel_range="0-255"))]
    clf = EmotionClassifier(module=EmotionCNN(**meta["module"]), classes=list(EMOTIONS))
    clf.initialize_fitted((48, 48))
    clf.module_.load_state_dict({k: v.float() if v.is_floating_point() else v
                                 for k, v in state.items()})
    pipe = EmotionPipeline(steps + [("clf", clf)])
    pipe[:-1].fit(np.full((1, 48, 48), 255, dtype=np.uint8))  # mean and std are given
    return pipe


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="output folder of train_device.py")
    parser.add_argument("--accurate", nargs="+", required=True)
    parser.add_argument("--default", required=True)
    parser.add_argument("--fast", required=True)
    parser.add_argument("--weights", default=str(WEIGHTS_DIR))
    args = parser.parse_args(argv)
    run, weights = Path(args.run), Path(args.weights)
    results = json.loads((run / "results.json").read_text())
    models = {"accurate": args.accurate, "default": [args.default], "fast": [args.fast]}
    networks, pipelines = {}, {}
    for name in sorted({n for names in models.values() for n in names}):
        state, networks[name] = read_network(run / f"{name}.safetensors")
        pipelines[name] = pipeline_of(state, networks[name])
    normalize = {meta["normalize"]["mean"] for meta in networks.values()}
    if len(normalize) != 1:
        raise SystemExit("the networks of the run disagree on the normalisation")
    for model, names in models.items():
        first = networks[names[0]]
        metrics = {"members": {n: {k: networks[n]["metrics"].get(k) for k in SUMMARY
                                   if k in networks[n]["metrics"]} for n in names},
                   "machine": first["machine"], "train": first["train"],
                   "augment": first["augment"], "distill": first.get("distill"),
                   "recipe": "benchmarks/train_device.py"}
        if len(names) > 1 and (results.get("ensemble") or {}).get("members") == names:
            metrics["public_test_accuracy"] = results["ensemble"]["public_test_accuracy"]
        elif len(names) == 1:
            metrics["public_test_accuracy"] = first["metrics"]["public_test_accuracy"]
        export_pretrained([pipelines[n] for n in names], model, directory=weights,
                          metrics=metrics, version=first["machine"].get("date"))
    keep = {f"{m}.safetensors" for m in models}
    for path in sorted(weights.iterdir()):
        if path.suffix in (".json", ".int8", ".safetensors") and path.name not in keep:
            path.unlink()
            print(f"removed {path}")
    total = 0
    for path in sorted(weights.iterdir()):
        total += path.stat().st_size
        print(f"{path}  {path.stat().st_size / 1e6:.2f} MB")
    print(f"total {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()

"""Export the models of a ``train_device.py`` run into the package's weights.

Each network of the run (``RUN/<name>.safetensors``: fp16 weights, settings and
scores in the metadata) is copied into ``src/fer_sklearn/weights/`` and the
shipped model names are written as JSON configs over them (with the run's date as the
models' version and the sha256 of each weights file):

    python benchmarks/export_device.py runs/device1 \\
        --accurate m40 m40p3 m32d3 --default s24 --fast s16

``accurate`` is the mean-logit ensemble of its members; ``default`` and ``fast``
are single distilled networks. Configs or weights of other names are removed
from the weights folder, so that only what the configs use ships.
"""

import argparse
import hashlib
import json
from pathlib import Path

from safetensors import safe_open
from safetensors.torch import load_file, save_file

from fer_sklearn import EMOTIONS
from fer_sklearn.pretrained._pretrained import WEIGHTS_DIR

SUMMARY = ("public_test_accuracy", "best_epoch", "n_epochs", "train_seconds", "seconds_per_epoch",
           "images_per_s", "params", "precision", "teachers")


def read_network(path):
    """Weights and settings of one network file written by ``train_device.py``."""
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["fer_sklearn"])
    return load_file(str(path)), meta


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
    networks = {}
    for name in sorted({n for names in models.values() for n in names}):
        state, meta = read_network(run / f"{name}.safetensors")
        save_file({k: v.contiguous() for k, v in state.items()}, weights / f"{name}.safetensors")
        networks[name] = meta
    normalize = {meta["normalize"]["mean"] for meta in networks.values()}
    if len(normalize) != 1:
        raise SystemExit("the networks of the run disagree on the normalisation")
    for model, names in models.items():
        members = [{"module": networks[n]["module"], "weights": f"{n}.safetensors",
                    "sha256": hashlib.sha256((weights / f"{n}.safetensors").read_bytes()).hexdigest()}
                   for n in names]
        metrics = {"members": {n: {k: networks[n]["metrics"].get(k) for k in SUMMARY
                                   if k in networks[n]["metrics"]} for n in names},
                   "machine": networks[names[0]]["machine"],
                   "train": networks[names[0]]["train"], "augment": networks[names[0]]["augment"],
                   "distill": networks[names[0]].get("distill"),
                   "recipe": "benchmarks/train_device.py"}
        if len(names) > 1 and (results.get("ensemble") or {}).get("members") == names:
            metrics["public_test_accuracy"] = results["ensemble"]["public_test_accuracy"]
        elif len(names) == 1:
            metrics["public_test_accuracy"] = networks[names[0]]["metrics"]["public_test_accuracy"]
        config = {"format": 1, "classes": list(EMOTIONS), "size": 48,
                  "normalize": dict(networks[names[0]]["normalize"]), "members": members,
                  "version": networks[names[0]]["machine"].get("date"), "metrics": metrics}
        (weights / f"{model}.json").write_text(json.dumps(config, indent=2) + "\n")
    keep = {f"{m}.json" for m in models} | {f"{n}.safetensors" for n in networks}
    for path in sorted(weights.iterdir()):
        if path.suffix in (".json", ".safetensors") and path.name not in keep:
            path.unlink()
            print(f"removed {path}")
    total = 0
    for path in sorted(weights.iterdir()):
        total += path.stat().st_size
        print(f"{path}  {path.stat().st_size / 1e6:.2f} MB")
    print(f"total {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()

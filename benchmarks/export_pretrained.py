"""Export trained runs (``benchmarks/train_pretrained.py`` outputs) into the package's weights.

Each run becomes a single-network model named after its folder, and ``default``
is the ensemble of all of them (each one safetensors file, see ``export_pretrained``).

    python benchmarks/export_pretrained.py runs/pretrained:vgg24 runs/vgg32:vgg32
"""

import argparse
import json
from pathlib import Path

import joblib

from fer_sklearn.pretrained._pretrained import WEIGHTS_DIR, export_pretrained


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="RUN_DIR:NAME, RUN_DIR holding pipeline.joblib")
    parser.add_argument("--default", nargs="*", default=None,
                        help="names of the runs forming the default model (default: all)")
    args = parser.parse_args(argv)
    pipelines, names = {}, []
    for spec in args.runs:
        folder, name = spec.rsplit(":", 1)
        pipelines[name] = joblib.load(Path(folder) / "pipeline.joblib")
        result = json.loads((Path(folder) / "result.json").read_text())
        export_pretrained(pipelines[name], name, metrics={"training": result})
        names.append(name)
    default = args.default or names
    export_pretrained([pipelines[n] for n in default], "default", metrics={"members": default})
    for path in sorted(WEIGHTS_DIR.iterdir()):
        print(f"{path}  {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()

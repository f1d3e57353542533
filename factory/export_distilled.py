"""Export a student of ``fer-sklearn distill`` as a shipped model (one fp16 safetensors file).

    python factory/export_distilled.py /work/runs/distill/default --name default --stem s24

Reads ``RUN/model.safetensors`` (the best epoch) and the run's checkpoint (settings and
per-epoch history), and writes ``<name>.safetensors`` into the package's weights folder (or
``--weights``), with the run's date as the version, the sha256 of the weights, and the run's
settings, curve and machine in the file's metrics (the network's name, ``--stem``, as the key
of its scores). Its int8 ranges are then out of date: run ``factory/calibrate_int8.py``.
"""

import argparse
import datetime
import json
from pathlib import Path

from fer_sklearn import load_model
from fer_sklearn.evaluation import machine_info
from fer_sklearn.pretrained import WEIGHTS_DIR, export_pretrained


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="--out folder of fer-sklearn distill")
    parser.add_argument("--name", required=True, help="the shipped model's name (default, fast)")
    parser.add_argument("--stem", required=True, help="the network's name (s24, s16)")
    parser.add_argument("--weights", default=str(WEIGHTS_DIR))
    parser.add_argument("--command", default=None, help="the command that ran (for the record)")
    args = parser.parse_args(argv)
    run = Path(args.run)
    model = load_model(run / "model.safetensors")
    settings = json.loads((run / "checkpoint" / "settings.json").read_text())
    history = model[-1].history_
    curve = [{"epoch": int(e["epoch"]), "seconds": round(float(e["dur"]), 1),
              "lr": e.get("lr"), "valid_acc": round(float(e["valid_acc"]), 4)} for e in history]
    best = max(curve, key=lambda e: e["valid_acc"])
    params = int(sum(p.numel() for p in model[-1].module_.parameters()))
    metrics = {
        "members": {args.stem: {
            "public_test_accuracy": best["valid_acc"], "best_epoch": best["epoch"],
            "n_epochs": len(curve), "train_seconds": round(sum(e["seconds"] for e in curve), 1),
            "seconds_per_epoch": round(sum(e["seconds"] for e in curve) / len(curve), 1),
            "params": params, "precision": "32", "teachers": [settings["teacher"]]}},
        "machine": machine_info(),
        "distill": {k: settings[k] for k in ("alpha", "temperature", "views", "teacher")},
        "train": {k: settings[k] for k in ("epochs", "batch_size", "lr", "seed")},
        "warm_start": None if settings["scratch"] else f"{settings['student']} (2026-11-27)",
        "curve": curve,
        "recipe": args.command or "fer-sklearn distill",
        "public_test_accuracy": best["valid_acc"],
    }
    version = datetime.date.today().isoformat()
    path = export_pretrained(model, args.name, directory=args.weights, metrics=metrics,
                             version=version)
    print(f"wrote {path} (version {version}, best epoch {best['epoch']}: {best['valid_acc']:.2%})")


if __name__ == "__main__":
    main()

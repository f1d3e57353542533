"""Does a larger batch keep the accuracy per epoch? A CPU check for the GPU run's recipe.

Trains one network of the library's recipes (``make_recipe``) from scratch on FER2013
Training for the same number of epochs under each recipe (batch size, optimizer,
mixup; the learning rate scaled from batch 128 as ``train_flagship.py`` scales it),
scoring PublicTest after each epoch, and writes the curves to a JSON file:

    python factory/compare_batch_sizes.py --net s16 --epochs 16 \\
        --recipes 128:adamw 512:adamw 512:sgd --out factory/runs/batch_sizes.json

A recipe is ``BATCH:OPTIMIZER[:MIXUP]``. Larger batches run faster on a GPU (fewer,
larger steps); this measures only what they cost in accuracy for a fixed number of
epochs, which the CPU can tell.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from train_flagship import CLASSES, load_faces, machine, optimizer_settings

from fer_sklearn import make_emotion_pipeline
from fer_sklearn.training import NETWORKS, make_recipe


def parse_recipe(text):
    batch, optimizer, *rest = text.split(":")
    return int(batch), optimizer, float(rest[0]) if rest else 0.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None,
                        help="fer2013.npz.xz (default: .devdata or ../shared)")
    parser.add_argument("--net", default="s16", choices=sorted(NETWORKS))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--recipes", nargs="+", default=["128:adamw", "512:adamw", "512:sgd"])
    parser.add_argument("--limit", type=int, default=None, help="first N faces of each split")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="factory/runs/batch_sizes.json")
    args = parser.parse_args(argv)
    X, y, Xv, yv = load_faces(args.data, args.limit)
    prep = make_emotion_pipeline()[:-1].fit(X)
    X, Xv = (prep.transform(faces).astype(np.float32) for faces in (X, Xv))
    results = dict(net=args.net, module=NETWORKS[args.net], epochs=args.epochs,
                   threads=torch.get_num_threads(), n_train=len(y), n_valid=len(yv), runs=[])
    for text in args.recipes:
        batch_size, optimizer, mixup = parse_recipe(text)
        settings = optimizer_settings(optimizer, batch_size)
        clf = make_recipe(args.net, max_epochs=args.epochs, batch_size=batch_size, mixup=mixup,
                          random_state=args.seed, device="cpu", verbose=0, classes=CLASSES,
                          **settings)
        start = time.time()
        curve = [float(a) for a in clf.fit(X, y, X_valid=Xv, y_valid=yv).history_[:, "valid_acc"]]
        results["runs"].append(dict(
            recipe=text, settings=dict(batch_size=batch_size, optimizer=optimizer,
                                       lr=settings["lr"], mixup=mixup),
            best_accuracy=max(curve), best_epoch=int(np.argmax(curve)) + 1,
            final_accuracy=curve[-1], seconds=round(time.time() - start, 1), curve=curve))
        table = "\n".join(["| recipe | peak lr | best | best epoch | last | seconds |",
                           "|---|---|---|---|---|---|"]
                          + [f"| {r['recipe']} | {r['settings']['lr']:.4f} | "
                             f"{r['best_accuracy']:.4f} | "
                             f"{r['best_epoch']} | {r['final_accuracy']:.4f} | {r['seconds']:.0f} |"
                             for r in results["runs"]])
        # written after every recipe, so that an interrupted comparison keeps what finished
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(dict(
            command=" ".join(sys.argv), machine=machine(), **results), indent=1))
        print(table, flush=True)
    return results


if __name__ == "__main__":
    main()

"""Does a larger batch keep the accuracy per epoch? A CPU check for the GPU run's recipe.

Trains one network of ``train_device.py`` from scratch on FER2013 Training for the
same number of epochs under each recipe (batch size, optimizer, mixup; the learning
rate scaled from batch 128 by ``train_device.recipe``), scoring PublicTest after each
epoch, and writes the curves to a JSON file:

    python benchmarks/compare_batch_sizes.py --net s16 --epochs 10 \\
        --recipes 128:adamw 512:adamw 512:sgd --out benchmarks/results/batch_sizes.json

A recipe is ``BATCH:OPTIMIZER[:MIXUP]``. Larger batches run faster on a GPU (fewer,
larger steps); this measures only what they cost in accuracy for a fixed number of
epochs, which the CPU can tell.
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when loaded from elsewhere
import train_device as td  # noqa: E402  benchmarks/train_device.py
from _results import write_results  # noqa: E402  benchmarks/_results.py


def parse_recipe(text):
    batch, optimizer, *rest = text.split(":")
    return dict(batch_size=int(batch), optimizer=optimizer, mixup=float(rest[0]) if rest else 0.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="fer2013.npz.xz (default: .devdata or ../shared)")
    parser.add_argument("--net", default="s16", help="a member or student of train_device.py")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--recipes", nargs="+", default=["128:adamw", "512:adamw", "512:sgd"])
    parser.add_argument("--limit", type=int, default=None, help="first N faces of each split")
    parser.add_argument("--out", default="benchmarks/results/batch_sizes.json")
    args = parser.parse_args(argv)
    spec = {**td.MEMBERS, **td.STUDENTS}[args.net]
    device, precision, fmt = td.settings("cpu", "32")
    X, y, Xv, yv = td.read_fer2013(td.find_data(args.data))
    if args.limit:
        X, y, Xv, yv = X[:args.limit], y[:args.limit], Xv[:args.limit], yv[:args.limit]
    mean, scale = float(X.mean()), float(X.std())
    train = td.FaceBatches(X, y, device, mean, scale, fmt)
    valid = td.FaceBatches(Xv, yv, device, mean, scale, fmt)
    results = dict(net=args.net, module=spec["module"], epochs=args.epochs, machine=td.machine(device),
                   threads=torch.get_num_threads(), n_train=len(train), n_valid=len(valid), runs=[])
    for text in args.recipes:
        settings = td.recipe(**parse_recipe(text))
        net = td.build(spec, device, fmt)
        start = time.time()
        record, = td.fit([net], train, valid, device=device, precision=precision, budget_s=1e9,
                         max_epochs=args.epochs, names=[text], tag=text, train_settings=settings)
        results["runs"].append(dict(recipe=text, settings=settings, best_accuracy=record["best_accuracy"],
                                    best_epoch=record["best_epoch"],
                                    final_accuracy=record["epochs"][-1]["valid_accuracy"],
                                    seconds=round(time.time() - start, 1),
                                    curve=[e["valid_accuracy"] for e in record["epochs"]]))
        table = "\n".join(["| recipe | peak lr | best | best epoch | last | seconds |", "|---|---|---|---|---|---|"]
                          + [f"| {r['recipe']} | {r['settings']['lr']:.4f} | {r['best_accuracy']:.4f} | "
                             f"{r['best_epoch']} | {r['final_accuracy']:.4f} | {r['seconds']:.0f} |"
                             for r in results["runs"]])
        # written after every recipe, so that an interrupted comparison keeps what finished
        write_results(args.out, results, table, f"{args.net}, {args.epochs} epochs each, CPU "
                      f"({results['threads']} threads), PublicTest after every epoch")


if __name__ == "__main__":
    main()

"""Training images/s on the CPU: ``precision="auto"`` against float32, interleaved.

    python benchmarks/bench_cpu_training.py [--networks s24 m40] [--faces 2048] [--rounds 3]

``auto`` trains under bf16 autocast where the CPU has AMX tiles and in float32
elsewhere (the ratio is then 1). Each round fits each recipe's network
(:func:`fer_sklearn.training.make_recipe`, augmentation on) for one epoch of
``--faces`` random 48x48 faces under each precision in turn, and the images/s come
from the epoch's time (skorch's ``dur``). Writes ``benchmarks/results/cpu_training.json``.
"""

import argparse
from pathlib import Path

import numpy as np
import torch
from _results import markdown_table, write_results

from fer_sklearn.training import NETWORKS, make_recipe
from fer_sklearn.utils import cpu_precision

RESULTS = Path(__file__).parent / "results" / "cpu_training.json"


def images_per_s(network, precision, X, y):
    """Training images/s of one epoch of ``network``'s recipe at ``precision``."""
    clf = make_recipe(network, max_epochs=1, precision=precision, device="cpu", verbose=0,
                      validation_fraction=None, callbacks=[], random_state=0)
    clf.set_params(callbacks__best_epoch=None).fit(X, y)
    return len(y) / clf.history_[-1, "dur"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=["s24", "m40"], choices=sorted(NETWORKS))
    parser.add_argument("--faces", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, (args.faces, 48, 48)).astype(np.float32) / 255
    y = rng.randint(0, 7, args.faces)
    rows = []
    for network in args.networks:
        rates = {"32": [], "auto": []}
        for _ in range(args.rounds):  # interleaved: a change in the machine's load hits both
            for precision in rates:
                rates[precision].append(images_per_s(network, precision, X, y))
        ratios = [a / b for a, b in zip(rates["auto"], rates["32"])]
        rows.append({"network": network, "auto trains in": "bf16" if cpu_precision() == "bf16"
                     else "float32", "float32 images/s": f"{np.median(rates['32']):.0f}",
                     "auto images/s": f"{np.median(rates['auto']):.0f}",
                     "auto / float32": f"{np.median(ratios):.2f}x"})
        print(rows[-1], flush=True)
    write_results(args.out, {"faces": args.faces, "threads": args.threads, "rounds": args.rounds,
                             "rows": rows}, markdown_table(rows),
                  "medians over the rounds; one epoch each, augmentation on")
    return rows


if __name__ == "__main__":
    main()

"""Host time per training step: the library's loop against a bare torch loop, same network.

    python benchmarks/bench_train_step.py [--width 2] [--batch-size 1024] [--steps 30]

Trains an :class:`~fer_sklearn.EmotionClassifier` (the batches' losses read once an epoch) for
one epoch of ``--steps`` batches of random 48x48 faces, and the same network with a bare torch loop
(forward, loss, backward, AdamW step; no augmentation in any of them). The difference per step
is the host time the estimator adds (its callbacks, history, batching). On a CPU there is no
device to wait for, so the loss read costs little here; on a GPU it is a wait every step.
Writes ``benchmarks/results/train_step.json``.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from _results import markdown_table, write_results  # benchmarks/_results.py

from fer_sklearn import EmotionClassifier, EmotionCNN

RESULTS = Path(__file__).parent / "results" / "train_step.json"


def bare_loop(X, y, width, batch_size):
    """Seconds per step of forward, loss, backward and AdamW step, nothing else."""
    torch.manual_seed(0)
    net = EmotionCNN(width=width)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
    Xt, yt = torch.as_tensor(X[:, None]), torch.as_tensor(y)
    start = time.perf_counter()
    for i in range(0, len(y), batch_size):
        loss = torch.nn.functional.cross_entropy(net(Xt[i:i + batch_size]), yt[i:i + batch_size])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / (len(y) // batch_size)


def estimator_loop(cls, X, y, width, batch_size):
    """Seconds per step of one epoch of ``cls.fit`` (training only)."""
    net = cls(module__width=width, batch_size=batch_size, max_epochs=1, augment=False,
              validation_fraction=None, early_stopping=False, lr_schedule=None,
              optimizer=torch.optim.AdamW, random_state=0)
    net.fit(X, y)
    return net.history_[-1, "dur"] / net.history_[-1, "train_batch_count"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.RandomState(0)
    X = rng.randn(args.steps * args.batch_size, 48, 48).astype(np.float32)
    y = rng.randint(0, 7, len(X))
    rows = []
    for _ in range(args.rounds):
        bare = bare_loop(X, y, args.width, args.batch_size)
        for cls in (EmotionClassifier,):
            step = estimator_loop(cls, X, y, args.width, args.batch_size)
            rows.append({"loop": cls.__name__, "ms_per_step": round(1000 * step, 2),
                         "bare_torch_ms_per_step": round(1000 * bare, 2),
                         "host_ms_per_step": round(1000 * (step - bare), 2)})
            print(rows[-1], flush=True)
    write_results(str(RESULTS), {"width": args.width, "batch_size": args.batch_size,
                                 "threads": args.threads, "rows": rows}, markdown_table(rows),
                  "host_ms_per_step: the estimator's step minus the bare torch step (noisy "
                  "on a busy machine: compare the best rounds).")


if __name__ == "__main__":
    main()

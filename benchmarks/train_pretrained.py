"""Train the shipped model: the library's pipeline on FER2013 Training, early-stopped on PublicTest.

Resumable: each epoch checkpoints to ``OUT/last`` (weights, optimizer, history);
run the same command again after an interruption and training continues from the
last finished epoch along the same learning-rate curve. The best epoch on
PublicTest is kept in ``OUT/best``, and the final fitted pipeline in
``OUT/pipeline.joblib``, with ``OUT/result.json`` holding settings and scores.

    python benchmarks/train_pretrained.py --out runs/pretrained --epochs 36
"""

import argparse
import json
import time
from pathlib import Path

import joblib
import numpy as np
import torch
from skorch.callbacks import Checkpoint, LoadInitState

from fer_sklearn import ImageAugmenter, load_fer2013, make_emotion_pipeline
from fer_sklearn.evaluation import machine_info

# The shared recipe: VGG-style blocks, AdamW, label smoothing, warm-up + cosine, strong
# augmentation on the device, no early stopping (the best PublicTest epoch is kept instead).
_VGG = dict(
    module__depth=4, module__convs_per_block=2, module__hidden_units=256,
    module__dropout=0.4, module__block_dropout=0.05,
    optimizer=torch.optim.AdamW, optimizer__weight_decay=5e-4, lr=2e-3, batch_size=128,
    criterion__label_smoothing=0.1, lr_schedule="cosine", warmup_epochs=2,
    early_stopping=False,
    augment=ImageAugmenter(max_shift=0.1, max_rotation=12, max_scale=0.12, flip=True, erasing=0.25),
)

RECIPES = {
    # name: classifier parameters
    "vgg24": dict(_VGG, module__width=24),  # what 2 shared CPU cores train in about 40 minutes
    "vgg32": dict(_VGG, module__width=32),
    # for an accelerator (about 9x the FLOPs of vgg32; untested here, where no GPU was lent)
    "vgg64": dict(_VGG, module__width=64),
    "tiny": dict(  # the CPU smoke test of the recipe
        module__width=8, module__depth=3, module__hidden_units=32, lr=2e-3, batch_size=64,
        lr_schedule="cosine", warmup_epochs=1, early_stopping=False,
    ),
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/fer2013/fer2013.csv.gz")
    parser.add_argument("--out", default="runs/pretrained")
    parser.add_argument("--recipe", default="vgg32", choices=sorted(RECIPES))
    parser.add_argument("--epochs", type=int, default=36)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training faces")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def resumable_pipeline(out, params):
    """The recipe's pipeline, checkpointing every epoch to ``out/last`` and the best to ``out/best``."""
    last = Checkpoint(dirname=str(out / "last"), monitor=None, f_pickle=None, event_name="event_saved")
    best = Checkpoint(dirname=str(out / "best"), monitor="valid_acc_best", f_pickle=None,
                      f_history=None, f_optimizer=None, f_criterion=None)
    return make_emotion_pipeline(**params, callbacks=[("checkpoint_last", last),
                                                      ("checkpoint_best", best),
                                                      ("resume", LoadInitState(last))])


def finished_epochs(out):
    """Epochs already in ``out/last`` (0 for a new run)."""
    history_file = out / "last" / "history.json"
    if not history_file.exists():
        return 0
    done = len(json.loads(history_file.read_text()))
    print(f"resuming after epoch {done} from {out / 'last'}", flush=True)
    return done


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    X, y = load_fer2013(args.data, usage="Training", return_X_y=True)
    X_valid, y_valid = load_fer2013(args.data, usage="PublicTest", return_X_y=True)
    if args.limit:
        X, y = X[: args.limit], y[: args.limit]
    y, y_valid = np.asarray(y), np.asarray(y_valid)
    params = dict(RECIPES[args.recipe], max_epochs=args.epochs, random_state=args.seed,
                  classes=list(range(7)), verbose=1)
    pipe = resumable_pipeline(out, params)
    done = finished_epochs(out)
    if done >= args.epochs:
        raise SystemExit(f"{out} already holds {done} epochs; nothing to do")
    start = time.time()
    pipe.fit(X, y, X_valid=X_valid, y_valid=y_valid, clf__epochs=args.epochs - done)
    elapsed = time.time() - start
    clf = pipe[-1]
    clf.load_params(f_params=str(out / "best" / "params.pt"))
    history = clf.history
    result = {
        "recipe": args.recipe,
        "params": {k: repr(v) for k, v in params.items()},
        "train_faces": int(len(X)),
        "epochs": len(history),
        "best_epoch": int(np.argmax(history[:, "valid_acc"])) + 1,
        "public_test_accuracy": float((pipe.predict(X_valid) == y_valid).mean()),
        "train_seconds_this_run": round(elapsed, 1),
        "machine": dict(machine_info(), threads=torch.get_num_threads(),
                        device=torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"),
        "date": time.strftime("%Y-%m-%d"),
    }
    clf.callbacks = None  # checkpoints point at this run's folders; the model stands alone
    joblib.dump(pipe, out / "pipeline.joblib")
    (out / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

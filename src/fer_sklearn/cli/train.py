"""``fer-sklearn train``: fit a pipeline, save it and write its evaluation report.

Every finished epoch is checkpointed into ``--out/checkpoint`` (see
:class:`fer_sklearn.persistence.EpochCheckpoint`): after a crash, a kill or
Ctrl-C, the same command with ``--resume`` trains the epochs that were left,
along the same learning-rate curve. The checkpoint is removed once the model is
saved.
"""

import contextlib
import math
import shlex
import shutil
import signal
import sys
from pathlib import Path

from ._common import (
    EXIT_OK,
    SYNTHETIC_NET,
    CLIError,
    network_shape,
    prepare_checkpoint,
    shared_options,
    subset,
    synthetic_data,
    user_input,
)

EXIT_INTERRUPTED = 130  # as a shell reports a process ended by Ctrl-C (128 + SIGINT)

_PROGRESS_MIN_BATCHES = 100  # shorter epochs get no progress bar
# --quick: the recipe of a small network (AdamW, warm-up + cosine) on 8,000 faces for 5
# epochs: 44.9% on PublicTest (macro F1 0.33) in 90 s on 2 cores (docs/guide/training.md)
_QUICK = dict(recipe="s12", limit=8000, epochs=5)
_FINE_TUNING_LR = 3e-4
_FULL_RUN = ("A full run on FER2013 (28,709 faces, the default network of width 32, up to 30 "
             "epochs) takes 1-2 hours on 2 CPU cores (about 140 s per epoch) and minutes on a "
             "GPU; --quick, --limit and --width make it small. The shipped models took about "
             "7 minutes on a GPU and would take more than a day on 2 CPU cores "
             "(docs/guide/training.md).")


def add_parser(commands):
    """Add the ``train`` command to the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "train", parents=[shared_options(
            "data", "valid_usage", "epochs", "width", "limit", "batch_size", "lr", "seed",
            "threads", "out", "resume",
            data=dict(help="FER2013 CSV (plain or .gz) or image folder (root/<emotion>/*.png, or "
                           "root/train and root/test); default: synthetic faces"),
            epochs=dict(help="most epochs (default: 30; 12 on synthetic faces)"),
            batch_size=dict(help="images per batch (default: 64; a recipe's own: 128)"),
            lr=dict(help="learning rate (default: 0.001; a recipe's own peak: 0.002)"),
            out=dict(default="fer-sklearn-run",
                     help="output folder (default: ./fer-sklearn-run)"))],
        help="train a model and write it with its evaluation report",
        description="Train an emotion classifier, save it as model.joblib and model.safetensors "
                    "(no pickle: the file to share) and write its learning curves and "
                    "evaluation report on the validation data. " + _FULL_RUN)
    parser.add_argument("--quick", action="store_true",
                        help=f"a small run to try things out: --recipe {_QUICK['recipe']} "
                             f"--limit {_QUICK['limit']} --epochs {_QUICK['epochs']} unless "
                             "given (about 90 s on 2 CPU cores; about 45%% on FER2013's "
                             "PublicTest)")
    parser.add_argument("--init", metavar="NAME|FILE",
                        help="fine-tune: start from the weights of a shipped single-network "
                             "model (default, fast) or a model file of one, with its network "
                             "and its preprocessing (--width and --recipe do not apply; --lr "
                             f"defaults to {_FINE_TUNING_LR})")
    parser.add_argument("--recipe", metavar="NAME",
                        help="train with the recipe of a shipped model: fast, default, or a "
                             "network of one (s12, s16, s24, m40, m40p3, m32d3): its network, "
                             "AdamW, warm-up + cosine set every batch, augmentation with "
                             "erasing, the best epoch kept (fer_sklearn.training.make_recipe)")
    parser.set_defaults(handler=run)


def _writing_out():
    return user_input(OSError, message="cannot write into --out: {}")


def _progress(n_batches):
    """A bar within long epochs, on a terminal only: redrawn bars would flood a log file."""
    if n_batches < _PROGRESS_MIN_BATCHES or not sys.stderr.isatty():
        return []
    from skorch.callbacks import ProgressBar

    return [("progress", ProgressBar(batches_per_epoch=n_batches))]


_SETTINGS = ("data", "valid_usage", "epochs", "width", "limit", "batch_size", "lr", "seed",
             "recipe", "init")


def _settings(args, epochs):
    """What a resumed run must share with the interrupted one."""
    data = None if args.data is None else str(Path(args.data).resolve())
    return dict({name: getattr(args, name) for name in _SETTINGS}, data=data, epochs=epochs)


def _command(args):
    """The command line that resumes this run."""
    options = {"--data": args.data, "--valid-usage": args.valid_usage, "--epochs": args.epochs,
               "--width": args.width, "--limit": args.limit, "--batch-size": args.batch_size,
               "--lr": args.lr, "--recipe": args.recipe, "--init": args.init, "--seed": args.seed,
               "--threads": args.threads, "--out": args.out}
    words = [f"{k} {shlex.quote(str(v))}" for k, v in options.items() if v is not None]
    return " ".join(["fer-sklearn train", *words, "--resume"])


@contextlib.contextmanager
def _ctrl_c_stops_training():
    """Note a Ctrl-C (skorch ends ``fit`` quietly on one, as on early stopping)."""
    interrupted = []

    def stop(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGINT, stop)
    except ValueError:  # not the main thread: Ctrl-C is not ours to catch
        yield interrupted
        return
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


def _model(args, epochs, batch_size, callbacks, params):
    """The pipeline to train: the default classifier, a recipe's, or the one of ``--init``."""
    from fer_sklearn import make_emotion_pipeline

    common = dict(max_epochs=epochs, batch_size=batch_size, random_state=args.seed, verbose=1,
                  callbacks=callbacks, **params)
    if args.init:
        return _fine_tuned(args, common)
    if not args.recipe:
        return make_emotion_pipeline(lr=args.lr or 1e-3, **common)
    from fer_sklearn.training import make_recipe

    with user_input(ValueError):
        clf = make_recipe(args.recipe, **common, **({"lr": args.lr} if args.lr else {}))
    return make_emotion_pipeline().set_params(clf=clf)


def _fine_tuned(args, common):
    """``--init``'s model: its preprocessing, then the default classifier on its network,
    starting from its weights (each class from its unit of the same class)."""
    from sklearn.base import clone

    from fer_sklearn import EmotionClassifier
    from fer_sklearn.pipeline import EmotionPipeline
    from fer_sklearn.pretrained import resolve_model
    from fer_sklearn.training import InitialWeights

    with user_input(ValueError, OSError):
        model = resolve_model(args.init)
    if not hasattr(model, "steps"):
        raise CLIError(f"--init {args.init} holds no pipeline: give a shipped model's name or a "
                       "model file of a pipeline")
    common = {k: v for k, v in common.items() if not k.startswith("module__")}  # its network
    shape = {f"module__{k}": v for k, v in network_shape(model, f"--init {args.init}").items()}
    callbacks = [("initial_weights", InitialWeights(args.init)), *common.pop("callbacks")]
    clf = EmotionClassifier(lr=args.lr or _FINE_TUNING_LR, callbacks=callbacks, **common,
                            **shape)
    return EmotionPipeline([(n, clone(step)) for n, step in model.steps[:-1]] + [("clf", clf)])


def _options(args):
    """Fill in ``args``' defaults (``--quick``, the recipe's); the epochs and batch size."""
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    if args.quick:
        for name, value in _QUICK.items():
            if getattr(args, name) is None and not (name == "recipe" and args.init):
                setattr(args, name, value)
    if args.init and args.recipe:
        raise CLIError("--init fine-tunes the network it names; --recipe trains one of its own: "
                       "give one of them")
    if args.recipe == "accurate":
        raise CLIError("the accurate recipe is an ensemble: train its members (--recipe m40, "
                       "m40p3 and m32d3) and combine them with "
                       "fer_sklearn.training.ensemble_classifier")
    return args.epochs or (12 if args.data is None else 30), args.batch_size or (
        128 if args.recipe else 64)


def _data(args):
    """The training and validation Bunches of ``args``, and the pipeline parameters they call
    for."""
    from fer_sklearn.datasets import load_train_valid

    if args.data is None:
        print("No --data given: training on the embedded synthetic faces (make_faces), not "
              "real photographs. The model will not recognise real expressions.")
        (train, valid) = synthetic_data(args.seed)
        params = {} if args.recipe else SYNTHETIC_NET
    else:
        with user_input(ValueError, OSError):
            train, valid = load_train_valid(args.data, valid_usage=args.valid_usage,
                                            random_state=args.seed)
        params = {}
    if args.width is not None:
        params = dict(params, module__width=args.width)
    if args.limit is not None and args.limit < len(train.target):
        train = subset(train, args.limit, args.seed)
    return train, valid, params


def run(args):
    """Train as ``args`` say; returns the exit code."""
    from fer_sklearn.persistence import ResumeTraining

    epochs, batch_size = _options(args)
    checkpoint = prepare_checkpoint(args.out, _settings(args, epochs), args.resume)
    done = checkpoint.finished_epochs()
    train, valid, params = _data(args)
    print(f"Training on {train.DESCR}; validating on {valid.DESCR}.")
    if done:
        print(f"Resuming after epoch {done} of {epochs} (checkpoint in {checkpoint.dirname}).")
    batches = sum(math.ceil(len(d.target) / batch_size) for d in (train, valid))
    callbacks = _progress(batches) + [("checkpoint", checkpoint)]
    if args.resume:
        callbacks.append(("resume", ResumeTraining(checkpoint)))
    model = _model(args, epochs, batch_size, callbacks, params)
    with _ctrl_c_stops_training() as interrupted:
        model.fit(train.data, train.target, X_valid=valid.data, y_valid=valid.target,
                  clf__epochs=epochs - done)
    if interrupted:
        return _stopped(args, checkpoint)
    # the saved model should not print tables or bars when refitted by someone else
    kept = _kept_epoch(model[-1])
    model.set_params(clf__verbose=0, clf__callbacks=None)
    _save(model, valid, args.out, checkpoint, kept)
    return EXIT_OK


def _kept_epoch(clf):
    """Which epoch's weights the model ends with: ``(epoch, score)``, or None for the last."""
    from skorch.callbacks import EarlyStopping

    for _, callback in clf.callbacks_:
        if isinstance(callback, EarlyStopping) and callback.load_best:
            epoch = getattr(callback, "best_epoch_", None)
            if epoch and epoch != len(clf.history_):
                return epoch, callback.monitor.replace("_", " ")
    return None


def _save(model, valid, out, checkpoint, kept=None):
    """Write the model (joblib and safetensors) and its report; remove the checkpoint.

    ``kept`` is the epoch whose weights the model ends with, when not the last (early
    stopping restores the best), so that the summary and the epoch table can be told apart.
    """
    import joblib

    from fer_sklearn import save_model
    from fer_sklearn.evaluation import evaluate

    with _writing_out():
        out.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, out / "model.joblib")
        save_model(model, out / "model.safetensors")
        shutil.rmtree(checkpoint.dirname)  # the run is complete: nothing left to resume
    report = evaluate(model, valid.data, valid.target, data=valid.DESCR)
    with _writing_out():
        paths = report.save(out)
    weights = (f"the weights of epoch {kept[0]}, the best {kept[1]}" if kept
               else "the weights of the last epoch")
    print(f"Validation accuracy {report.accuracy:.1%}, macro F1 {report.f1_macro:.3f} "
          f"({report.n_samples} images; {weights}).")
    print(f"Model written to {out / 'model.joblib'} and {out / 'model.safetensors'} (no "
          "pickle: the one to share)")
    print(f"Report written to {paths['report.html']}")


def _stopped(args, checkpoint):
    """Say what Ctrl-C left behind and how to go on; the exit code of an interruption."""
    done = checkpoint.finished_epochs()
    if not done:
        print("Interrupted before the first epoch finished: nothing was saved.", file=sys.stderr)
    else:
        print(f"Interrupted: the {done} finished epoch(s) are saved in {checkpoint.dirname}. To "
              f"continue, run the same command with --resume:\n  {_command(args)}",
              file=sys.stderr)
    return EXIT_INTERRUPTED

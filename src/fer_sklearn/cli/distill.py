"""``fer-sklearn distill``: train a student network from a teacher model of the library.

The teacher (a pretrained model's name or a model file of a pipeline) labels
``--views`` augmented copies of the training faces once; its outputs are
cached in ``--cache`` (reused by a resumed or repeated run). ``--views 0`` has
the teacher label every training batch instead (the way on a GPU). The student has
the shape of a shipped single-network model (``--student``), starts from its
weights unless ``--scratch``, trains with the teacher's preprocessing, and the
epoch of best validation accuracy is kept, saved and reported on (the evaluation
report, as ``train`` writes it). Every epoch is checkpointed into
``--out/checkpoint``; ``--resume`` continues after a crash or a kill.
"""

import inspect
import json
import shlex
import shutil
import sys
import time
from pathlib import Path

from ._common import (EXIT_OK, CLIError, non_negative_int, output_folder, positive_float,
                      positive_int, user_input)

_SETTINGS = ("teacher", "student", "scratch", "data", "valid_usage", "epochs", "batch_size", "lr",
             "views", "alpha", "temperature", "seed", "limit")


def add_parser(commands):
    """Add the ``distill`` command to the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "distill", help="distil a small network from a larger model (teacher)",
        description="Train a student network against a teacher model's softened outputs and "
                    "the labels, checkpointing every epoch (resume with --resume).")
    parser.add_argument("--teacher", default="accurate", metavar="NAME|FILE",
                        help="pretrained model name or model file of a pipeline "
                             "(default: accurate)")
    parser.add_argument("--student", default="default", metavar="NAME",
                        help="shipped single-network model whose shape (and, unless --scratch, "
                             "weights) the student takes (default: default)")
    parser.add_argument("--scratch", action="store_true", help="start from random weights")
    parser.add_argument("--data", required=True, metavar="PATH",
                        help="FER2013 CSV (plain or .gz) or image folder")
    parser.add_argument("--valid-usage", default="PublicTest", metavar="USAGE",
                        help="FER2013 split to select the epoch on (default: PublicTest)")
    parser.add_argument("--epochs", type=positive_int, default=10, metavar="N")
    parser.add_argument("--batch-size", type=positive_int, default=128, metavar="N")
    parser.add_argument("--lr", type=positive_float, default=1e-3, metavar="X",
                        help="peak learning rate of AdamW (warm-up over 3%% of the steps, then "
                             "cosine to 0, set every batch)")
    parser.add_argument("--views", type=non_negative_int, default=4, metavar="K",
                        help="augmented copies of the faces the teacher labels once (default: "
                             "4); 0: the teacher labels every training batch (on a GPU)")
    parser.add_argument("--alpha", type=float, default=0.75, metavar="X",
                        help="weight of the teacher's term (default: 0.75)")
    parser.add_argument("--temperature", type=positive_float, default=2.0, metavar="T")
    parser.add_argument("--teacher-tta", action="store_true",
                        help="the teacher averages mirrored and shifted views (10x its cost)")
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="train on the first N faces (a quick try)")
    parser.add_argument("--seed", type=int, default=0, metavar="N")
    parser.add_argument("--threads", type=positive_int, metavar="N", help="CPU threads for torch")
    parser.add_argument("--out", type=output_folder, default="fer-sklearn-distill", metavar="DIR")
    parser.add_argument("--cache", metavar="DIR",
                        help="folder of the teacher's outputs (default: --out/teacher-cache); "
                             "runs may share it")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last finished epoch")
    parser.add_argument("--finish", action="store_true",
                        help="with --resume: train no further, write the model of the best "
                             "epoch the checkpoint holds (a run stopped before its end)")
    parser.set_defaults(handler=run)


def _settings(args):
    return {name: getattr(args, name) for name in _SETTINGS}


def _checkpoint(args):
    from fer_sklearn.persistence import EpochCheckpoint

    folder = args.out / "checkpoint"
    checkpoint = EpochCheckpoint(folder)
    settings = _settings(args)
    if args.resume:
        if checkpoint.latest() is None and not (folder / "settings.json").exists():
            raise CLIError(f"no checkpoint to resume in {args.out}; run without --resume")
        saved = json.loads((folder / "settings.json").read_text())
        changed = [k for k in _SETTINGS if saved.get(k) != settings[k]]
        if changed:
            raise CLIError(f"--resume continues the run with its own settings: {changed[0]} was "
                           f"{saved.get(changed[0])!r}, now {settings[changed[0]]!r}")
        return checkpoint
    with user_input(OSError, message="cannot write into --out: {}"):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "settings.json").write_text(json.dumps(settings))
    return checkpoint


def _student_shape(name):
    from fer_sklearn import EmotionCNN
    from fer_sklearn.pretrained import available_models, load_pretrained

    if name not in available_models():
        raise CLIError(f"--student must be a shipped model ({', '.join(available_models())})")
    network = load_pretrained(name, device="cpu")[-1].module_
    if type(network) is not EmotionCNN:
        raise CLIError(f"--student {name} is an ensemble; give a single-network model")
    defaults = inspect.signature(EmotionCNN).parameters
    return {k: v for k, v in network.config.items()  # those the student sets
            if k != "n_classes" and v != defaults[k].default}


def build_student(args, teacher, checkpoint):
    """The student pipeline: the teacher's preprocessing, then a DistilledEmotionClassifier."""
    import torch
    from sklearn.base import clone
    from skorch.callbacks import EarlyStopping

    from fer_sklearn import ImageAugmenter
    from fer_sklearn.persistence import ResumeTraining
    from fer_sklearn.pipeline import EmotionPipeline
    from fer_sklearn.training import (
        DistilledEmotionClassifier, InitialWeights, ProgressLog, WarmupCosine,
    )

    if not hasattr(teacher, "steps"):
        raise CLIError("--teacher must be a pipeline (a pretrained name or a saved pipeline)")
    callbacks = [] if args.scratch else [("initial_weights", InitialWeights(args.student))]
    callbacks += [
        ("warmup_cosine", WarmupCosine(warmup=0.03)),
        ("progress", ProgressLog(every=120)),
        ("best_epoch", EarlyStopping(monitor="valid_acc", lower_is_better=False,
                                     patience=args.epochs + 1, load_best=True)),
        ("checkpoint", checkpoint),
        ("resume", ResumeTraining(checkpoint)),
    ]
    module = {f"module__{k}": v for k, v in _student_shape(args.student).items()}
    clf = DistilledEmotionClassifier(
        teacher=teacher[-1], alpha=args.alpha, temperature=args.temperature,
        n_views=args.views or None,
        cache_dir=str(args.cache), optimizer=torch.optim.AdamW, optimizer__weight_decay=0.05,
        lr=args.lr, batch_size=args.batch_size, max_epochs=args.epochs, lr_schedule=None,
        early_stopping=False,
        augment=ImageAugmenter(max_shift=0.1, max_rotation=12, max_scale=0.12, flip=True,
                               erasing=0.25),
        random_state=args.seed, verbose=1, callbacks=callbacks, **module)
    steps = [(name, clone(step)) for name, step in teacher.steps[:-1]]
    return EmotionPipeline(steps + [("clf", clf)])


def run(args):
    """Distil as ``args`` say; returns the exit code."""
    import torch

    from fer_sklearn import load_pretrained, save_model
    from fer_sklearn.datasets import load_train_valid
    from fer_sklearn.evaluation import evaluate
    from fer_sklearn.training import resolve_teacher

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    args.cache = Path(args.cache) if args.cache else args.out / "teacher-cache"
    if args.finish and not args.resume:
        raise CLIError("--finish ends a checkpointed run: give it with --resume")
    checkpoint = _checkpoint(args)
    done = checkpoint.finished_epochs()
    with user_input(ValueError, OSError):
        teacher = resolve_teacher(args.teacher)
        train, valid = load_train_valid(args.data, valid_usage=args.valid_usage,
                                        random_state=args.seed)
    if args.teacher_tta:
        teacher.set_params(clf__tta=True)
    X, y = train.data, train.target
    if args.limit is not None:
        X, y = X[:args.limit], y[:args.limit]
    labels = (f"{args.views} teacher-labelled copies, cache {args.cache}" if args.views
              else "the teacher on every batch")
    print(f"Distilling {args.teacher} into the shape of {args.student} on {len(y)} faces "
          f"({labels}); selecting on "
          f"{valid.DESCR}. torch threads: {torch.get_num_threads()}", flush=True)
    if not args.scratch and not done:
        start = time.perf_counter()
        shipped = load_pretrained(args.student).score(valid.data, valid.target)
        print(f"{args.student} as shipped: {shipped:.2%} on {args.valid_usage} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    if done:
        print(f"Resuming after epoch {done} of {args.epochs}.", flush=True)
    model = build_student(args, teacher, checkpoint)
    epochs = 0 if args.finish else args.epochs - done
    model.fit(X, y, X_valid=valid.data, y_valid=valid.target, clf__epochs=epochs)
    student = model[-1]
    best = max(student.history_[:, "valid_acc"])
    model.set_params(clf__verbose=0, clf__callbacks=None, clf__teacher=None)
    report = evaluate(model, valid.data, valid.target, data=valid.DESCR)
    with user_input(OSError, message="cannot write into --out: {}"):
        save_model(model, args.out / "model.safetensors")
        paths = report.save(args.out)
    print(f"Best {args.valid_usage} accuracy {best:.2%}; model written to "
          f"{args.out / 'model.safetensors'}, report to {paths['report.html']}. Resume or "
          f"extend: {shlex.join(sys.argv)}", flush=True)
    return EXIT_OK

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

import shlex
import sys
import time
from pathlib import Path

from ._common import (
    EXIT_OK,
    CLIError,
    network_shape,
    non_negative_int,
    positive_float,
    prepare_checkpoint,
    shared_options,
    subset,
    user_input,
)

_SETTINGS = ("teacher", "student", "scratch", "data", "valid_usage", "epochs", "batch_size", "lr",
             "views", "alpha", "temperature", "seed", "limit")


def add_parser(commands):
    """Add the ``distill`` command to the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "distill", parents=[shared_options(
            "data", "valid_usage", "epochs", "batch_size", "lr", "limit", "seed", "threads",
            "out", "resume",
            data=dict(required=True, help="FER2013 CSV (plain or .gz) or image folder"),
            valid_usage=dict(default="PublicTest",
                             help="FER2013 split to select the epoch on (default: PublicTest)"),
            epochs=dict(default=10, help="most epochs (default: 10)"),
            batch_size=dict(default=128, help="images per batch (default: 128)"),
            lr=dict(default=1e-3, help="peak learning rate of AdamW (warm-up over 3%% of the "
                                       "steps, then cosine to 0, set every batch; default: "
                                       "0.001)"),
            out=dict(default="fer-sklearn-distill",
                     help="output folder (default: ./fer-sklearn-distill)"))],
        help="distil a small network from a larger model (teacher)",
        description="Train a student network against a teacher model's softened outputs and "
                    "the labels, checkpointing every epoch (resume with --resume).")
    parser.add_argument("--teacher", default="accurate", metavar="NAME|FILE",
                        help="pretrained model name or model file of a pipeline "
                             "(default: accurate)")
    parser.add_argument("--student", default="default", metavar="NAME",
                        help="shipped single-network model whose shape (and, unless --scratch, "
                             "weights) the student takes (default: default)")
    parser.add_argument("--scratch", action="store_true", help="start from random weights")
    parser.add_argument("--views", type=non_negative_int, default=4, metavar="K",
                        help="augmented copies of the faces the teacher labels once (default: "
                             "4); 0: the teacher labels every training batch (on a GPU)")
    parser.add_argument("--alpha", type=float, default=0.75, metavar="X",
                        help="weight of the teacher's term (default: 0.75)")
    parser.add_argument("--temperature", type=positive_float, default=2.0, metavar="T")
    parser.add_argument("--teacher-tta", action="store_true",
                        help="the teacher averages mirrored and shifted views (10x its cost)")
    parser.add_argument("--cache", metavar="DIR",
                        help="folder of the teacher's outputs (default: --out/teacher-cache); "
                             "runs may share it")
    parser.add_argument("--finish", action="store_true",
                        help="with --resume: train no further, write the model of the best "
                             "epoch the checkpoint holds (a run stopped before its end)")
    parser.set_defaults(handler=run)


def _settings(args):
    """What a resumed run must share with the interrupted one."""
    return {name: getattr(args, name) for name in _SETTINGS}


def _student_shape(name):
    """The network arguments of the shipped single-network model ``name``."""
    from fer_sklearn.pretrained import available_models, load_pretrained

    if name not in available_models():
        raise CLIError(f"--student must be a shipped model ({', '.join(available_models())})")
    return network_shape(load_pretrained(name, device="cpu"), f"--student {name}")


def build_student(args, teacher, checkpoint):
    """The student pipeline: the teacher's preprocessing, then the student's recipe.

    The recipe of the shipped model ``--student`` (:func:`fer_sklearn.training.make_recipe`:
    AdamW, warm-up + cosine set every batch, its augmentation, the best epoch kept), with
    the teacher, the network shape of the shipped file, and this run's checkpoint.
    """
    from sklearn.base import clone

    from fer_sklearn.persistence import ResumeTraining
    from fer_sklearn.pipeline import EmotionPipeline
    from fer_sklearn.training import InitialWeights, ProgressLog, make_recipe

    if not hasattr(teacher, "steps"):
        raise CLIError("--teacher must be a pipeline (a pretrained name or a saved pipeline)")
    callbacks = [] if args.scratch else [("initial_weights", InitialWeights(args.student))]
    callbacks += [("progress", ProgressLog(every=120)), ("checkpoint", checkpoint),
                  ("resume", ResumeTraining(checkpoint))]
    module = {f"module__{k}": v for k, v in _student_shape(args.student).items()}
    with user_input(ValueError):
        clf = make_recipe(
            args.student, teacher=teacher[-1], max_epochs=args.epochs, lr=args.lr,
            batch_size=args.batch_size, random_state=args.seed, callbacks=callbacks,
            alpha=args.alpha, temperature=args.temperature, n_views=args.views or None,
            cache_dir=str(args.cache), verbose=1, **module)
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
    checkpoint = prepare_checkpoint(args.out, _settings(args), args.resume)
    done = checkpoint.finished_epochs()
    with user_input(ValueError, OSError):
        teacher = resolve_teacher(args.teacher)
        train, valid = load_train_valid(args.data, valid_usage=args.valid_usage,
                                        random_state=args.seed)
    if args.teacher_tta:
        teacher.set_params(clf__tta=True)
    if args.limit is not None and args.limit < len(train.target):
        train = subset(train, args.limit, args.seed)
    X, y = train.data, train.target
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

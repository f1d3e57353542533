"""What the verbs share: the usage error, option types, the --model argument, the synthetic data."""

import argparse
import ast
import contextlib
import json
import math
import shutil
from pathlib import Path

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
SYNTHETIC_SIZES = (1400, 350)  # training and validation faces of the synthetic default
# a small network is plenty for drawn faces, and trains in about a minute on 2 cores
SYNTHETIC_NET = dict(module__width=8, module__depth=3, module__hidden_units=64)


class CLIError(Exception):
    """A problem with the user's input: printed as one line, exit code 2."""


def _describe(exc):
    if isinstance(exc, OSError) and exc.strerror:  # errors of the OS: name the file
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc)


@contextlib.contextmanager
def user_input(*errors, message="{}"):
    """Turn ``errors`` raised inside into a :class:`CLIError`: they are about the user's input.

    Wrap only the calls that read or write what the user named (data files,
    output folders), so that the same errors raised elsewhere, by a bug,
    keep their traceback.
    """
    try:
        yield
    except errors as exc:
        raise CLIError(message.format(_describe(exc))) from exc


def _int_from(text, low, what):
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive_int(text):
    """argparse type: an integer >= 1."""
    return _int_from(text, 1, "a positive integer")


def non_negative_int(text):
    """argparse type: an integer >= 0."""
    return _int_from(text, 0, "an integer >= 0")


def positive_float(text):
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def probability(text):
    """argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return value


def output_folder(text):
    """argparse type of ``--out``: a folder, existing or to be created (not a file)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a folder")
    return path


# The options several verbs share, each written once: flags and argparse settings. A verb
# takes those it has with ``shared_options`` (argparse's parents), changing what differs.
_SHARED = {
    "data": (("--data",), dict(
        metavar="PATH", help="FER2013 CSV (plain or .gz) or image folder (root/<emotion>/*.png, "
                             "or root/train and root/test)")),
    "valid_usage": (("--valid-usage",), dict(
        default=None, metavar="USAGE",
        help="FER2013 split to validate on (default: PublicTest where the file has it, else a "
             "stratified 10%% of the training rows)")),
    "epochs": (("--epochs",), dict(type=positive_int, metavar="N", help="most epochs")),
    "batch_size": (("--batch-size",), dict(type=positive_int, metavar="N",
                                           help="images per batch")),
    "lr": (("--lr",), dict(type=positive_float, metavar="X", help="learning rate")),
    "width": (("--width",), dict(
        type=positive_int, metavar="N",
        help="channels of the network's first block, doubling in each of the next (default: "
             "32; 8 on synthetic faces); the cost grows with its square")),
    "limit": (("--limit",), dict(type=positive_int, metavar="N",
                                 help="train on N faces drawn at random from the training data "
                                      "(default: all)")),
    "seed": (("--seed",), dict(type=int, default=0, metavar="N",
                               help="random seed (default: 0)")),
    "threads": (("--threads",), dict(
        type=positive_int, metavar="N",
        help="CPU threads for torch (default: torch's choice; 1 is often fastest for small "
             "networks or on a busy machine)")),
    "out": (("--out",), dict(type=output_folder, metavar="DIR", help="output folder")),
    "detector": (("--detector",), dict(
        choices=("blazeface", "haar"), default="blazeface",
        help="face detector: blazeface (a small CNN shipped with the package: finds turned "
             "faces; default) or haar (OpenCV's frontal cascade)")),
    "min_score": (("--min-score",), dict(
        type=probability, metavar="P",
        help="blazeface: smallest detection score (0-1) of a face kept; higher drops more "
             "animals and objects taken for faces (default: fer_sklearn.EmotionRecognizer's)")),
    "resume": (("--resume",), dict(
        action="store_true",
        help="continue the run in --out from its last finished epoch (each epoch is "
             "checkpointed into --out/checkpoint), after a crash or Ctrl-C; give the same other "
             "options")),
}


def shared_options(*names, **changes):
    """A parent parser (argparse's ``parents=``) with the shared options ``names``.

    Parameters
    ----------
    *names : str
        Keys of the shared options (``"data"``, ``"epochs"``, ``"threads"``, ...).
    **changes : dict
        For an option, the argparse settings a verb changes (``epochs=dict(default=10)``).

    Returns
    -------
    parser : argparse.ArgumentParser
        Without ``-h``, to pass in ``parents=[...]``.
    """
    parser = argparse.ArgumentParser(add_help=False)
    for name in names:
        flags, settings = _SHARED[name]
        parser.add_argument(*flags, **{**settings, **changes.get(name, {})})
    return parser


def add_model_argument(parser):
    """The ``--model``, ``--pretrained`` and ``--tta`` options of the verbs that apply a model."""
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--model", metavar="FILE",
                       help="model saved with joblib, or with save_model (.safetensors: no "
                            "pickle, safe to share), or the name of a shipped model "
                            "(default: the shipped model 'default')")
    which.add_argument("--pretrained", metavar="NAME",
                       help="a model that ships with the package: default, fast or accurate "
                            "(see the model card)")
    parser.add_argument("--tta", action="store_true",
                        help="average each face over mirrored and shifted views (test-time "
                             "augmentation: about 10x slower, a little more accurate)")


def load_model(args, **options):
    """The model of ``--model``, ``--pretrained`` and ``--tta``.

    ``--model`` is a joblib or save_model file, or the name of a shipped model
    (:func:`fer_sklearn.pretrained.resolve_model`); with neither option, the
    shipped ``default``. ``options`` (e.g. ``device="cpu"``) go to the loader of
    shipped models and save_model files.
    """
    from fer_sklearn.pretrained import load_pretrained, resolve_model

    path = Path(args.model) if args.model is not None else None
    if path is not None and path.is_file() and path.suffix.lower() != ".safetensors":
        model = _joblib_model(path)
        return _with_tta(model, args.model) if args.tta else model
    if args.tta:
        options["tta"] = True
    with user_input(ValueError):
        if args.pretrained is not None:
            return load_pretrained(args.pretrained, **options)
        return resolve_model(args.model, **options)


def _joblib_model(path):
    """The model of a joblib file (a pickle: the user named it)."""
    import joblib

    try:
        model = joblib.load(path)
    except Exception as exc:  # pickle, EOF, zlib... errors all mean "not a model file"
        raise CLIError(f"{path} is not a model saved with joblib "
                       f"({type(exc).__name__}: {exc})") from exc
    if not hasattr(model, "predict_proba"):
        raise CLIError(f"{path} holds a {type(model).__name__}, not a classifier with "
                       "predict_proba")
    return model


def _with_tta(model, path):
    """``model`` with test-time augmentation on (its classifier's ``tta`` parameter)."""
    clf = model[-1] if hasattr(model, "steps") else model
    if "tta" not in getattr(clf, "get_params", dict)():
        raise CLIError(f"--tta needs a model of fer-sklearn's EmotionClassifier; {path} holds "
                       f"a {type(clf).__name__}")
    clf.set_params(tta=True)
    return model


def prepare_checkpoint(out, settings, resume):
    """The checkpoint of a ``train`` or ``distill`` run in ``out``: the run's to resume, or new.

    With ``resume``, the run must have started (``out/checkpoint/settings.json``)
    with the same ``settings``; otherwise the folder is made anew with them.

    Parameters
    ----------
    out : pathlib.Path
        The run's ``--out`` folder.
    settings : dict
        What a resumed run must share with the interrupted one (JSON-ready).
    resume : bool
        Whether ``--resume`` was given.

    Returns
    -------
    checkpoint : fer_sklearn.persistence.EpochCheckpoint
        Into ``out/checkpoint``.
    """
    from fer_sklearn.persistence import EpochCheckpoint

    folder = out / "checkpoint"
    checkpoint = EpochCheckpoint(folder)
    if resume:
        if not (folder / "settings.json").exists():
            finished = (" (its model is saved: the run finished)"
                        if (out / "model.safetensors").exists() else "")
            raise CLIError(f"no checkpoint to resume in {out}{finished}; run without --resume "
                           "to start a run")
        saved = json.loads((folder / "settings.json").read_text())
        changed = [k for k in settings if saved.get(k) != settings[k]]
        if changed:
            name = changed[0]
            raise CLIError(f"--resume continues the run with its own settings: "
                           f"{name.replace('_', '-')} was {saved.get(name)!r}, now "
                           f"{settings[name]!r}")
        return checkpoint
    with user_input(OSError, message="cannot write into --out: {}"):
        if folder.exists():
            shutil.rmtree(folder)
            print(f"Starting a new run: the checkpoint in {folder} is replaced.")
        folder.mkdir(parents=True)
        (folder / "settings.json").write_text(json.dumps(settings))
    return checkpoint


def subset(data, n, seed):
    """``n`` faces of ``data`` drawn at random (in their order)."""
    import numpy as np
    from sklearn.utils import Bunch

    keep = np.sort(np.random.RandomState(seed).choice(len(data.target), n, replace=False))
    return Bunch(data=data.data[keep], target=np.asarray(data.target)[keep],
                 DESCR=f"{n} faces drawn from {data.DESCR}")


def network_shape(model, what):
    """The arguments of ``model``'s network (one :class:`~fer_sklearn.EmotionCNN`) that differ
    from the defaults: what a network of the same shape, to start from its weights, needs."""
    import inspect

    from fer_sklearn import EmotionCNN

    network = (model[-1] if hasattr(model, "steps") else model).module_
    if type(network) is not EmotionCNN:
        raise CLIError(f"{what} is an ensemble; give a single-network model")
    defaults = inspect.signature(EmotionCNN).parameters
    return {k: v for k, v in network.config.items()
            if k != "n_classes" and v != defaults[k].default}


def synthetic_data(seed):
    """Training and validation Bunches of synthetic faces: the data of ``train`` and ``search``
    when no ``--data`` is given."""
    from sklearn.utils import Bunch

    from fer_sklearn import make_faces

    n_train, n_valid = SYNTHETIC_SIZES
    X, y = make_faces(n_train, random_state=seed)
    Xv, yv = make_faces(n_valid, random_state=seed + 1)
    return (Bunch(data=X, target=y, DESCR=f"{len(y)} synthetic faces"),
            Bunch(data=Xv, target=yv, DESCR=f"{len(yv)} other synthetic faces"))


def parse_param(text):
    """Parse ``NAME=VALUE[,VALUE...]`` into a name and a list of values.

    Each value is read as a Python literal where it is one (``1e-3``, ``32``,
    ``True``, ``None``, ``'a'``) and kept as a string otherwise (``cosine``).

    Parameters
    ----------
    text : str
        For example ``"clf__lr=1e-3,3e-4"``.

    Returns
    -------
    name : str
    values : list

    Raises
    ------
    ValueError
        If ``text`` has no ``=``, no name or an empty value.

    Examples
    --------
    >>> from fer_sklearn.cli._common import parse_param
    >>> parse_param("clf__lr=1e-3,3e-4")
    ('clf__lr', [0.001, 0.0003])
    >>> parse_param("clf__lr_schedule=cosine,None")
    ('clf__lr_schedule', ['cosine', None])
    """
    name, sep, values = text.partition("=")
    name = name.strip()
    items = [item.strip() for item in values.split(",")]
    if not sep or not name or not all(items):
        raise ValueError(f"expected NAME=VALUE[,VALUE...], got {text!r}")
    return name, [_literal(item) for item in items]


def _literal(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text

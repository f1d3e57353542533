"""What the verbs share: the usage error, option types, the --model argument, the synthetic data."""

import argparse
import ast
import contextlib
import math
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


def output_folder(text):
    """argparse type of ``--out``: a folder, existing or to be created (not a file)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a folder")
    return path


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
        raise CLIError(f"{path} holds a {type(model).__name__}, not a classifier with predict_proba")
    return model


def _with_tta(model, path):
    """``model`` with test-time augmentation on (its classifier's ``tta`` parameter)."""
    clf = model[-1] if hasattr(model, "steps") else model
    if "tta" not in getattr(clf, "get_params", dict)():
        raise CLIError(f"--tta needs a model of fer-sklearn's EmotionClassifier; {path} holds "
                       f"a {type(clf).__name__}")
    clf.set_params(tta=True)
    return model


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

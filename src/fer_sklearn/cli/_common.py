"""What the verbs share: the usage error, option types and the --model argument."""

import argparse
import contextlib
import math
from pathlib import Path

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


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


def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


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
    """The ``--model`` option of the verbs that apply a saved model."""
    parser.add_argument("--model", metavar="FILE",
                        help="model saved with joblib, or with save_model (.safetensors: no "
                             "pickle, safe to share) (default: the shipped pretrained model)")


def load_model(path):
    """The model of ``--model``: a joblib or save_model file, or the pretrained model when None."""
    import fer_sklearn

    if path is None:
        return fer_sklearn.load_pretrained()
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"no model file at {path}")
    if path.suffix.lower() == ".safetensors":
        with user_input(ValueError):
            return fer_sklearn.load_model(path)
    import joblib

    try:
        model = joblib.load(path)
    except Exception as exc:  # pickle, EOF, zlib... errors all mean "not a model file"
        raise CLIError(f"{path} is not a model saved with joblib "
                       f"({type(exc).__name__}: {exc})") from exc
    if not hasattr(model, "predict_proba"):
        raise CLIError(f"{path} holds a {type(model).__name__}, not a classifier with predict_proba")
    return model

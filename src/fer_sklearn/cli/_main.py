"""The ``fer-sklearn`` command line: train, evaluate and predict.

Calls the public API; ``predict`` streams the records of
:meth:`EmotionRecognizer.analyze_many` through the row flattening of
:func:`~fer_sklearn.faces.iter_face_rows`, drawing them on the way when asked.
Errors a user can fix (a missing file, a wrong format, a bad option) print one
line and exit with code 2.
"""

import argparse
import csv
import json
import math
import os
import sys
from pathlib import Path

from skorch.callbacks import Callback

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
_PROGRESS_MIN_BATCHES = 100  # shorter epochs get no progress bar
_SYNTHETIC_SIZES = (1400, 350)  # training and validation faces of the synthetic default


class CLIError(Exception):
    """A problem with the user's input: printed as one line, exit code 2."""


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(f"{message} (see '{self.prog} --help')")


# ---------------------------------------------------------------------- data
def _check_path(path):
    path = Path(path)
    if not path.exists():
        raise CLIError(f"no such file or folder: {path}")
    if path.is_file() and not path.name.lower().endswith((".csv", ".csv.gz", ".gz")):
        raise CLIError(f"{path}: expected a FER2013 CSV file (.csv or .csv.gz) or an image folder")
    return path


def _load_csv(path, purpose):
    """The whole FER2013 CSV, read once: ``(X, y, usages)``."""
    from fer_sklearn import load_fer2013

    bunch = load_fer2013(path)
    if bunch.target is None:
        raise CLIError(f"{path} has no 'emotion' column, so it cannot be used to {purpose}")
    return bunch.data, bunch.target, bunch.usage


def _select_usage(X, y, usages, usage, path, option):
    present = sorted(set(usages.tolist()))
    if usage not in present:
        raise CLIError(f"{option} {usage!r} is not in {path}; its usages are {present}")
    keep = usages == usage
    return X[keep], y[keep], f"{int(keep.sum())} images from {path} ({usage})"


def _load_folder(folder):
    from fer_sklearn import load_image_folder

    X, y = load_image_folder(folder, return_X_y=True)
    return X, y, f"{len(y)} images from {folder}"


def _evaluation_data(path, usage):
    """Images and labels to evaluate on: a CSV split (PublicTest by default) or a folder."""
    path = _check_path(path)
    if path.is_dir():
        if usage is None and (path / "test").is_dir():
            usage = "test"
        folder = path if usage is None else path / usage
        if not folder.is_dir():
            raise CLIError(f"{path} has no '{usage}' sub-folder")
        return _load_folder(folder)
    X, y, usages = _load_csv(path, "evaluate")
    if usage is None:
        if "PublicTest" not in set(usages.tolist()):
            return X, y, f"all {len(y)} images from {path}"
        usage = "PublicTest"
    return _select_usage(X, y, usages, usage, path, "--usage")


def _training_data(path, valid_usage, seed):
    """Training and validation sets for ``train``: FER2013 splits, folders or a random split."""
    from sklearn.model_selection import train_test_split

    path = _check_path(path)
    if path.is_dir():
        if (path / "train").is_dir():
            X, y, what = _load_folder(path / "train")
            valid_name = next((n for n in ("test", "valid", "val", "validation")
                               if (path / n).is_dir()), None)
            if valid_name is not None:
                Xv, yv, valid_what = _load_folder(path / valid_name)
                return X, y, Xv, yv, what, valid_what
        else:
            X, y, what = _load_folder(path)
    else:
        X, y, usages = _load_csv(path, "train")
        if "Training" in set(usages.tolist()):
            Xv, yv, valid_what = _select_usage(X, y, usages, valid_usage, path, "--valid-usage")
            X, y, what = _select_usage(X, y, usages, "Training", path, "--usage")
            return X, y, Xv, yv, what, valid_what
        what = f"{path}"
    X, Xv, y, yv = train_test_split(X, y, test_size=0.1, stratify=y, random_state=seed)
    return X, y, Xv, yv, f"{len(y)} images ({what}, 90%)", f"the other {len(yv)} (a 10% split)"


# ---------------------------------------------------------------------- progress
class SimpleProgressBar(Callback):
    """A skorch callback printing a text progress bar within each epoch (no tqdm needed).

    Parameters
    ----------
    batches_per_epoch : int
        Training and validation batches in one epoch.
    stream : file, default=sys.stderr
        Where to draw.
    width : int, default=30
        Characters in the bar.
    """

    def __init__(self, batches_per_epoch, stream=None, width=30):
        self.batches_per_epoch = batches_per_epoch
        self.stream = stream
        self.width = width

    def on_epoch_begin(self, net, **kwargs):
        self.done_ = 0

    def on_batch_end(self, net, **kwargs):
        self.done_ += 1
        stream = self.stream or sys.stderr
        share = min(1.0, self.done_ / max(1, self.batches_per_epoch))
        filled = int(round(share * self.width))
        stream.write(f"\r  [{'#' * filled}{'.' * (self.width - filled)}] "
                     f"{self.done_}/{self.batches_per_epoch} batches")
        stream.flush()

    def on_epoch_end(self, net, **kwargs):
        stream = self.stream or sys.stderr
        stream.write("\r" + " " * (self.width + 30) + "\r")
        stream.flush()


def progress_callback(batches_per_epoch):
    """skorch's tqdm ProgressBar when tqdm is installed, else :class:`SimpleProgressBar`."""
    try:
        import tqdm  # noqa: F401
        from skorch.callbacks import ProgressBar
    except ImportError:
        return SimpleProgressBar(batches_per_epoch)
    return ProgressBar(batches_per_epoch=batches_per_epoch)


# ---------------------------------------------------------------------- models
def _load_model(path):
    import joblib

    import fer_sklearn

    if path is None:
        if not hasattr(fer_sklearn, "load_pretrained"):
            raise CLIError("no --model given and no pretrained model ships with this version")
        return fer_sklearn.load_pretrained()
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"no model file at {path}")
    try:
        model = joblib.load(path)
    except Exception as exc:  # pickle, EOF, zlib... errors all mean "not a model file"
        raise CLIError(f"{path} is not a model saved with joblib ({type(exc).__name__}: {exc})") from None
    if not hasattr(model, "predict_proba"):
        raise CLIError(f"{path} holds a {type(model).__name__}, not a classifier with predict_proba")
    return model


def _input_size(model):
    """Side of the images the model's pipeline resizes to (48 if it does not say)."""
    steps = dict(getattr(model, "steps", []))
    size = getattr(steps.get("resize"), "size", None)
    return int(size) if size else 48


# ---------------------------------------------------------------------- commands
def _cmd_train(args):
    import joblib

    from fer_sklearn import make_emotion_pipeline, make_faces
    from fer_sklearn.evaluation import evaluate

    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    out = Path(args.out)
    params = {}
    if args.data is None:
        print("No --data given: training on the embedded synthetic faces (make_faces), not "
              "real photographs. The model will not recognise real expressions.")
        n_train, n_valid = _SYNTHETIC_SIZES
        X, y = make_faces(n_train, random_state=args.seed)
        Xv, yv = make_faces(n_valid, random_state=args.seed + 1)
        what, valid_what = f"{len(y)} synthetic faces", f"{len(yv)} other synthetic faces"
        # a small network is plenty for drawn faces, and trains in about a minute on 2 cores
        params.update(module__width=8, module__depth=3, module__hidden_units=64)
        epochs = args.epochs or 12
    else:
        X, y, Xv, yv, what, valid_what = _training_data(args.data, args.valid_usage, args.seed)
        epochs = args.epochs or 30
    print(f"Training on {what}; validating on {valid_what}.")
    batches = math.ceil(len(y) / args.batch_size) + math.ceil(len(yv) / args.batch_size)
    # a bar within long epochs, on a terminal only: redrawn bars would flood a log file
    long_epochs = batches >= _PROGRESS_MIN_BATCHES and sys.stderr.isatty()
    callbacks = [("progress", progress_callback(batches))] if long_epochs else []
    model = make_emotion_pipeline(max_epochs=epochs, batch_size=args.batch_size, lr=args.lr,
                                  random_state=args.seed, verbose=1, callbacks=callbacks, **params)
    model.fit(X, y, X_valid=Xv, y_valid=yv)
    # the saved model should not print tables or bars when refitted by someone else
    model.set_params(clf__verbose=0, clf__callbacks=None)

    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out / "model.joblib")
    report = evaluate(model, Xv, yv)
    paths = report.save(out)
    print(f"Validation accuracy {report.accuracy:.1%}, macro F1 {report.f1_macro:.3f} "
          f"({report.n_samples} images).")
    print(f"Model written to {out / 'model.joblib'}")
    print(f"Report written to {paths['report.html']}")
    return EXIT_OK


def _cmd_evaluate(args):
    from fer_sklearn.evaluation import evaluate

    model = _load_model(args.model)
    X, y, what = _evaluation_data(args.data, args.usage)
    print(f"Evaluating on {what}.")
    report = evaluate(model, X, y)
    paths = report.save(args.out)
    print(f"Accuracy {report.accuracy:.1%}, macro F1 {report.f1_macro:.3f}, "
          f"log loss {report.log_loss:.3f}.")
    print(f"Report written to {paths['report.html']}")
    return EXIT_OK


def iter_image_paths(inputs, exclude=None):
    """Image files of the arguments: files as given, folders searched recursively, sorted.

    ``exclude`` (a folder) is not searched: the ``--annotate`` folder may lie
    inside an input folder, and its pictures must not become inputs.
    """
    from fer_sklearn.datasets._image_folder import IMAGE_SUFFIXES

    exclude = None if exclude is None else Path(exclude).resolve()
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if (Path(root) / d).resolve() != exclude)
                for name in sorted(files):
                    if Path(name).suffix.lower() in IMAGE_SUFFIXES:
                        yield Path(root) / name
        else:
            yield path


# suffixes kept for the drawn copies; another one (.gif, .tif...) is written as .png
_ANNOTATED_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class _Annotator:
    """Draw each analysed photo's faces into a folder, passing the records through.

    Photos keep their file name (and suffix when Pillow writes it, else .png);
    a name met twice (``a/x.png`` and ``b/x.png``) gets ``-1``, ``-2``... and no
    output ever replaces its input. A photo that can no longer be read (changed
    since its analysis) becomes an ``error`` record; a file that cannot be
    written stops the command with a usage error (the folder is full or read-only).
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self.used = set()
        self.count = 0

    def _target(self, file):
        source = Path(file)
        suffix = source.suffix.lower() if source.suffix.lower() in _ANNOTATED_SUFFIXES else ".png"
        stem, n = source.stem, 0
        while True:
            target = self.folder / f"{stem}{f'-{n}' if n else ''}{suffix}"
            if target.name not in self.used and target.resolve() != source.resolve():
                self.used.add(target.name)
                return target
            n += 1

    def __call__(self, records):
        from fer_sklearn.faces import annotate

        for record in records:
            if record["status"] != "error":
                target = self._target(record["file"])
                try:
                    annotate(record["file"], record["faces"], out=target)
                    self.count += 1
                except ValueError as exc:
                    record.update(status="error", faces=[], error=f"annotating: {exc}")
                except OSError as exc:
                    raise CLIError(f"cannot write {target}: {exc.strerror or exc}") from None
            yield record


def _csv_value(value):
    return round(value, 6) if isinstance(value, float) else value


class _RowWriter:
    """Stream rows to CSV (a file or stdout) or to a JSON list, one at a time."""

    def __init__(self, output, fieldnames):
        self.output = output
        self.fieldnames = fieldnames
        self.json = output is not None and str(output).lower().endswith(".json")
        self.file = sys.stdout if output is None else open(output, "w", newline="", encoding="utf-8")
        self.count = 0
        if self.json:
            self.file.write("[")
        else:
            self.csv = csv.DictWriter(self.file, fieldnames=fieldnames)
            self.csv.writeheader()

    def write(self, row):
        row = {k: _csv_value(v) for k, v in row.items()}
        if self.json:
            self.file.write(("," if self.count else "") + "\n  " + json.dumps(row))
        else:
            self.csv.writerow(row)  # None is written as an empty cell
        self.count += 1

    def close(self):
        if self.json:
            self.file.write("\n]\n")
        if self.file is not sys.stdout:
            self.file.close()
        else:
            self.file.flush()


def _check_detection():
    """A one-line usage error, before any row, when OpenCV cannot detect faces."""
    from fer_sklearn.faces._detect import _cascade

    try:
        _cascade()
    except ImportError as exc:
        raise CLIError(f"face detection unavailable ({exc}); use --no-detect for cropped faces") from None


def _cmd_predict(args):
    from fer_sklearn.faces import ROW_FIELDS, EmotionRecognizer, face_rows as _rows

    if args.output is not None and not str(args.output).lower().endswith((".csv", ".json")):
        raise CLIError(f"--output must end in .csv or .json, got {args.output}")
    missing = [p for p in args.images if not Path(p).exists()]
    if missing:
        raise CLIError(f"no such file or folder: {missing[0]}")
    if args.batch_size < 1:
        raise CLIError(f"--batch-size must be a positive integer, got {args.batch_size}")
    if args.detect:
        _check_detection()
    annotator = None
    if args.annotate is not None:
        try:
            Path(args.annotate).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CLIError(f"cannot create the --annotate folder {args.annotate}: "
                           f"{exc.strerror or exc}") from None
        annotator = _Annotator(args.annotate)
    model = _load_model(args.model)
    # crops at the model's input size: its pipeline resizes nothing more
    recognizer = EmotionRecognizer(model, crop_size=_input_size(model), n_threads=args.threads)
    paths = iter_image_paths(args.images, exclude=args.annotate)
    # records (one per photo, with its faces) are drawn, then flattened into the rows of
    # iter_face_rows: each photo is decoded for detection, and again only to be drawn
    records = recognizer.analyze_many(paths, batch_size=args.batch_size, detect=args.detect)
    if annotator is not None:
        records = annotator(records)
    counts = dict.fromkeys(("ok", "no_face", "error"), 0)
    faces = 0

    def counted(records):
        nonlocal faces
        for record in records:
            counts[record["status"]] += 1
            faces += len(record["faces"])
            yield record

    writer = _RowWriter(args.output, list(ROW_FIELDS))
    try:
        for row in _rows(counted(records)):
            writer.write(row)
    finally:
        writer.close()
    total = sum(counts.values())
    if total == 0:
        raise CLIError("no image files found in " + ", ".join(args.images))
    where = f" to {args.output}" if args.output else ""
    print(f"Wrote {writer.count} rows{where}: {faces} face(s) in {counts['ok']} of {total} "
          f"image(s).", file=sys.stderr)
    if counts["no_face"]:
        print(f"{counts['no_face']} image(s) with no face found (status no_face).", file=sys.stderr)
    if annotator is not None:
        print(f"Annotated {annotator.count} image(s) in {args.annotate}.", file=sys.stderr)
    if counts["error"]:
        print(f"{counts['error']} image(s) could not be read; see the 'error' column.",
              file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_OK


# ---------------------------------------------------------------------- parser
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def build_parser():
    """The argument parser of the ``fer-sklearn`` command."""
    from fer_sklearn import __version__

    parser = _ArgumentParser(
        prog="fer-sklearn",
        description="Train, evaluate and apply facial expression (7 emotions) classifiers.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgumentParser)
    commands.required = True

    train = commands.add_parser(
        "train", help="train a model and write it with its evaluation report",
        description="Train an emotion classifier, save it as model.joblib and write its learning "
                    "curves and evaluation report on the validation data.")
    train.add_argument("--data", metavar="PATH",
                       help="FER2013 CSV (plain or .gz) or image folder (root/<emotion>/*.png, or "
                            "root/train and root/test); default: synthetic faces")
    train.add_argument("--valid-usage", default="PublicTest", metavar="USAGE",
                       help="FER2013 split to validate on (default: PublicTest)")
    train.add_argument("--epochs", type=_positive_int, metavar="N",
                       help="most epochs (default: 30; 12 on synthetic faces)")
    train.add_argument("--batch-size", type=_positive_int, default=64, metavar="N",
                       help="images per batch (default: 64)")
    train.add_argument("--lr", type=_positive_float, default=1e-3, metavar="X",
                       help="learning rate (default: 0.001)")
    train.add_argument("--out", default="fer-sklearn-run", metavar="DIR",
                       help="output folder (default: ./fer-sklearn-run)")
    train.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default: 0)")
    train.add_argument("--threads", type=_positive_int, metavar="N",
                       help="CPU threads for torch (default: torch's choice; 1 is often fastest "
                            "for small networks or on a busy machine)")
    train.set_defaults(handler=_cmd_train)

    evaluate = commands.add_parser(
        "evaluate", help="write the evaluation report of a saved model on labelled data",
        description="Evaluate a saved model on labelled images and write the report "
                    "(metrics.json, report.md, report.html and the charts).")
    evaluate.add_argument("--model", metavar="FILE",
                          help="model saved with joblib (default: the shipped pretrained model)")
    evaluate.add_argument("--data", required=True, metavar="PATH",
                          help="FER2013 CSV (plain or .gz) or image folder root/<emotion>/")
    evaluate.add_argument("--usage", metavar="USAGE",
                          help="FER2013 split (default: PublicTest when the file has one, else "
                               "every row) or image sub-folder (default: test when there is one)")
    evaluate.add_argument("--out", required=True, metavar="DIR", help="output folder")
    evaluate.set_defaults(handler=_cmd_evaluate)

    predict = commands.add_parser(
        "predict", help="find the faces of photos and predict the emotion of each",
        description="Find the faces of photos and predict the emotion of each: one row per face "
                    "(file, face, box x y w h, emotion, the probability of each emotion, status, "
                    "error). A photo without a face gives one row with status no_face, an "
                    "unreadable file one with status error; both leave the face columns empty. "
                    "Exits with 1 when some files could not be read (no_face is not a failure).")
    predict.add_argument("images", nargs="+", metavar="IMAGE_OR_FOLDER",
                         help="image files, or folders searched recursively")
    predict.add_argument("--model", metavar="FILE",
                         help="model saved with joblib (default: the shipped pretrained model)")
    predict.add_argument("--output", metavar="FILE",
                         help="write the rows to a .csv or .json file (default: CSV on stdout)")
    predict.add_argument("--no-detect", dest="detect", action="store_false",
                         help="the images are cropped faces: no detection, one row per image "
                              "with the whole image as the box")
    predict.add_argument("--annotate", metavar="DIR",
                         help="also write each readable image with its face boxes and emotions "
                              "drawn into DIR (same file name; .gif, .tif... are written as .png)")
    predict.add_argument("--batch-size", type=int, default=256, metavar="N",
                         help="images read at a time; their faces are classified together "
                              "(default: 256)")
    predict.add_argument("--threads", type=_positive_int, metavar="N",
                         help="CPU threads for torch while classifying (default: torch's choice)")
    predict.set_defaults(handler=_cmd_predict)
    return parser


def main(argv=None):
    """Run the ``fer-sklearn`` command line; returns the exit code.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    code : int
        0 on success, 1 when ``predict`` could not read some images (photos
        without a face are not failures), 2 for a
        usage error (printed as one line), 130 when interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.handler(args)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except CLIError as exc:
        print(f"fer-sklearn: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"fer-sklearn: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, TypeError) as exc:
        if os.environ.get("FER_SKLEARN_DEBUG"):
            raise
        print(f"fer-sklearn: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("fer-sklearn: interrupted", file=sys.stderr)
        return 130

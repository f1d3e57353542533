"""``fer-sklearn predict``: one row per face of photos, as CSV or JSON, and annotated copies."""

import argparse
import sys
from collections import Counter
from pathlib import Path

from ._common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    CLIError,
    add_model_argument,
    load_model,
    positive_int,
    shared_options,
    user_input,
)


def _rows_file(text):
    """argparse type of ``--output``: a .csv or .json file."""
    if not text.lower().endswith((".csv", ".json")):
        raise argparse.ArgumentTypeError(f"must end in .csv or .json, got {text!r}")
    return text


def add_parser(commands):
    """Add the ``predict`` command to the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "predict", parents=[shared_options(
            "detector", "min_score", "batch_size", "threads",
            batch_size=dict(default=256, help="images read at a time; their faces are "
                                              "classified together (default: 256)"),
            threads=dict(help="CPU threads for torch while classifying (default: torch's "
                              "choice)"))],
        help="find the faces of photos and predict the emotion of each",
        description="Find the faces of photos and predict the emotion of each: one row per face "
                    "(file, face, box x y w h, detection score, emotion, the probability of each "
                    "emotion, status, error). A photo without a face gives one row with status "
                    "no_face, an unreadable file one with status error; both leave the face "
                    "columns empty. Exits with 1 when some files could not be read (no_face is "
                    "not a failure).")
    parser.add_argument("images", nargs="+", metavar="IMAGE_OR_FOLDER",
                        help="image files, or folders searched recursively")
    add_model_argument(parser)
    parser.add_argument("--output", type=_rows_file, metavar="FILE",
                        help="write the rows to a .csv or .json file (default: CSV on stdout)")
    parser.add_argument("--no-detect", dest="detect", action="store_false",
                        help="the images are cropped faces: no detection, one row per image "
                             "with the whole image as the box")
    parser.add_argument("--min-face", type=positive_int, metavar="PX",
                        help="smallest face side to find, in pixels (default: 30 for haar; for "
                             "blazeface about a fifth of the photo's shorter side; smaller "
                             "faces cost more time)")
    parser.add_argument("--annotate", metavar="DIR",
                        help="also write each readable image with its face boxes and emotions "
                             "drawn into DIR (same file name; .gif, .tif... are written as .png)")
    parser.add_argument("--explain", metavar="DIR",
                        help="also write each readable image with every face's saliency map "
                             "blended over it (where the model's evidence for the emotion "
                             "lies; fer_sklearn.explain) and its box and emotion into DIR")
    parser.set_defaults(handler=run)


def _input_size(model):
    """Side of the images the model's pipeline resizes to (48 if it does not say)."""
    size = getattr(dict(getattr(model, "steps", [])).get("resize"), "size", None)
    return int(size) if size else 48


def _counted(records, counts):
    """Pass the records on, counting their statuses and faces into ``counts``."""
    for record in records:
        counts[record["status"]] += 1
        counts["faces"] += len(record["faces"])
        counts["annotated"] += record.get("annotated") is not None
        counts["explained"] += record.get("explained") is not None
        yield record


def _overlays(records, folder, save_annotated):
    """Save the copies with saliency maps, keeping their paths apart from --annotate's."""
    for record in save_annotated(records, folder, saliency=True):
        record["explained"] = record.pop("annotated")
        yield record


def run(args):
    """Predict as ``args`` say; returns the exit code."""
    from fer_sklearn.faces import save_annotated
    from fer_sklearn.io import iter_image_paths
    from fer_sklearn.photos import EmotionRecognizer, face_rows, write_face_rows

    missing = [p for p in args.images if not Path(p).exists()]
    if missing:
        raise CLIError(f"no such file or folder: {missing[0]}")
    model = load_model(args)
    # crops at the model's input size: its pipeline resizes nothing more
    options = {} if args.min_score is None else {"min_score": args.min_score}
    recognizer = EmotionRecognizer(model, crop_size=_input_size(model), n_threads=args.threads,
                                   detector=args.detector, min_size=args.min_face, **options)
    paths = iter_image_paths(args.images, exclude=args.annotate)
    if args.explain is not None:  # never read back the copies being written
        written = Path(args.explain).resolve()
        paths = (p for p in paths if written not in Path(p).resolve().parents)
    try:
        records = recognizer.analyze_many(paths, batch_size=args.batch_size, detect=args.detect,
                                          explain=args.explain is not None)
    except ImportError as exc:
        raise CLIError(f"face detection unavailable ({exc}); use --no-detect for cropped faces"
                       ) from exc
    if args.explain is not None:
        with user_input(OSError, message="cannot create the --explain folder: {}"):
            Path(args.explain).mkdir(parents=True, exist_ok=True)
        records = _overlays(records, args.explain, save_annotated)
    if args.annotate is not None:
        with user_input(OSError, message="cannot create the --annotate folder: {}"):
            records = save_annotated(records, args.annotate)
    counts = Counter()
    with user_input(OSError, message="cannot write: {}"):
        n_rows = write_face_rows(face_rows(_counted(records, counts)), args.output)
    total = counts["ok"] + counts["no_face"] + counts["error"]
    if total == 0:
        raise CLIError("no image files found in " + ", ".join(args.images))
    where = f" to {args.output}" if args.output else ""
    print(f"Wrote {n_rows} rows{where}: {counts['faces']} face(s) in {counts['ok']} of {total} "
          f"image(s).", file=sys.stderr)
    if counts["no_face"]:
        print(f"{counts['no_face']} image(s) with no face found (status no_face).", file=sys.stderr)
    if args.annotate is not None:
        print(f"Annotated {counts['annotated']} image(s) in {args.annotate}.", file=sys.stderr)
    if args.explain is not None:
        print(f"Wrote saliency maps of {counts['explained']} image(s) to {args.explain}.",
              file=sys.stderr)
    if counts["error"]:
        print(f"{counts['error']} image(s) could not be read; see the 'error' column.",
              file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_OK

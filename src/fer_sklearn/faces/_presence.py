"""A second look at BlazeFace's less sure candidates: MediaPipe's face-presence score.

BlazeFace alone scores some cat heads, motorbike wheels and colour wheels 0.5-0.66,
as it scores some real faces (small, turned, or FER2013 faces pasted in photos).
A candidate scoring at most :data:`SURE_SCORE` is kept only when the face flag of
MediaPipe's face mesh model (``models/face_presence.onnx``, Apache-2.0, the
flag's part of ``face_landmark.tflite`` converted by
``factory/convert_face_presence.py``) on the candidate, turned upright by its
eyes, says face with probability above :data:`MIN_PRESENCE`. The three
numbers were chosen on the tuning half of ``benchmarks/real_photos.json``
(``benchmarks/bench_real_photos.py``; see the photo guide).
"""

import functools
import math
from importlib import resources

import numpy as np

from ._opencv import opencv

INPUT_SIZE = 192  # the face mesh model's input side
SURE_SCORE = 0.66
"""BlazeFace scores above this are kept without a second look, in a search of one pass (the
tuning half's false faces scored at most 0.657)."""
SURE_SCORE_PASSES = 0.9
"""The same in a search of several passes (a ``min_size`` below a fifth of the photo): its
finer passes see many small patches, and BlazeFace scores some of them up to 0.872 (the
tuning half with ``min_size=40`` and no ``max_side``)."""
MIN_PRESENCE = 0.5
"""Smallest face-presence probability of a candidate kept after a second look."""
ROI_SCALE = 1.2
"""Side of the square looked at, per side of BlazeFace's box (MediaPipe uses 1.5, which let
a motorbike's wheel through on the tuning half: presence 0.81 there, 0.004 at 1.2)."""


@functools.lru_cache(maxsize=1)
def network():
    """The face-presence network as an onnxruntime session, loaded once (one thread a run)."""
    import onnxruntime  # a dependency, imported where BlazeFace's is

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    model = (resources.files(__package__) / "models" / "face_presence.onnx").read_bytes()
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def upright_square(rgb, box, right_eye, left_eye, size=INPUT_SIZE, scale=ROI_SCALE):
    """The square around ``box`` (``xmin, ymin, xmax, ymax``), turned so the eyes are level.

    Its side is ``scale`` times the box's longer side, resized to ``size``;
    parts outside the photo are black, as MediaPipe pads them.
    """
    cv2 = opencv()
    angle = math.degrees(math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0]))
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = max(box[2] - box[0], box[3] - box[1], 1e-3) * scale
    matrix = cv2.getRotationMatrix2D((float(cx), float(cy)), angle, size / side)
    matrix[:, 2] += (size / 2 - cx, size / 2 - cy)
    return cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)


def presence(rgb, box, keypoints):
    """The probability that a candidate face (box and BlazeFace keypoints) is a face."""
    square = upright_square(rgb, box, keypoints[0], keypoints[1])
    x = square.transpose(2, 0, 1)[None].astype(np.float32) / 255.0  # [0, 1], as MediaPipe
    (logit,) = network().run(None, {"input_1": x})[0].ravel()
    return 1.0 / (1.0 + math.exp(-min(80.0, max(-80.0, float(logit)))))


def second_look(rgb, boxes, scores, keypoints, passes=1):
    """Which detections to keep: the sure ones, and those the model calls faces.

    Sure: above :data:`SURE_SCORE` in a search of one pass, above
    :data:`SURE_SCORE_PASSES` in one of several ``passes``.

    Returns
    -------
    keep : ndarray of bool, shape (n,)
    """
    keep = scores > (SURE_SCORE if passes == 1 else SURE_SCORE_PASSES)
    for i in np.flatnonzero(~keep):
        keep[i] = presence(rgb, boxes[i], keypoints[i]) > MIN_PRESENCE
    return keep

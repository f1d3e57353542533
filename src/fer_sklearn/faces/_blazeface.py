"""BlazeFace: MediaPipe's short-range CNN face detector, run by OpenCV's DNN module.

The network (``models/blazeface_short_range.onnx``, Apache-2.0, converted from
MediaPipe's TFLite file by ``benchmarks/convert_blazeface.py``) scores 896
anchors of a 128x128 RGB input; the SSD anchors, the decoding of its boxes and
six keypoints, and MediaPipe's weighted non-maximum suppression are written
here. A photo is searched in square windows of its shorter side (the network
finds faces of about a fifth to the whole of its input), and in smaller windows
when ``min_size`` asks for smaller faces.
"""

import functools
import json
from importlib import resources

import numpy as np

from ._opencv import InstancePool, opencv

INPUT_SIZE = 128
# (stride, anchors per cell) of MediaPipe's face_detection_short_range_common.pbtxt
_ANCHOR_LAYOUT = ((8, 2), (16, 6))
_LOGIT_LIMIT = 80.0  # MediaPipe clips at 100, whose sigmoid overflows float32
IOU_THRESHOLD = 0.3  # MediaPipe's min_suppression_threshold
SMALLEST = 0.2  # smallest face found, as a fraction of the window's side
NESTED_OVERLAP = 0.5  # a detection this much inside a better one is the same face
KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear")
"""The six keypoints of a BlazeFace detection, in the model's order (the person's right/left)."""


def _load_network():
    cv2 = opencv()
    model = resources.files(__package__) / "models" / "blazeface_short_range.onnx"
    with resources.as_file(model) as path:
        net = cv2.dnn.readNetFromONNX(str(path))
    return net


# one network per thread running at once (a network holds its input)
_NETWORKS = InstancePool(_load_network)


@functools.lru_cache(maxsize=1)
def framing():
    """The linear map from a detection's keypoints to the FER2013 frame (see fit_framing.py)."""
    text = (resources.files(__package__) / "models" / "blazeface_framing.json").read_text()
    return np.asarray(json.loads(text)["coef"], dtype=np.float64)


@functools.lru_cache(maxsize=1)
def ssd_anchors():
    """Anchor centres ``(896, 2)`` as ``(x, y)`` in [0, 1], in the network's output order."""
    centres = []
    for stride, per_cell in _ANCHOR_LAYOUT:
        cells = INPUT_SIZE // stride
        grid = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        yy, xx = np.meshgrid(grid, grid, indexing="ij")
        centres.append(np.repeat(np.stack([xx.ravel(), yy.ravel()], axis=1), per_cell, axis=0))
    return np.concatenate(centres)


def decode(regressors, logits, threshold):
    """Boxes, scores and keypoints of the anchors scoring above ``threshold``.

    Parameters
    ----------
    regressors : ndarray of shape (896, 16)
        Raw box centre offset, size and six keypoint offsets, in input pixels.
    logits : ndarray of shape (896,)
        Raw face scores.
    threshold : float
        Smallest sigmoid score kept.

    Returns
    -------
    boxes : ndarray of shape (n, 4)
        ``(xmin, ymin, xmax, ymax)`` in [0, 1] of the input.
    scores : ndarray of shape (n,)
    keypoints : ndarray of shape (n, 6, 2)
    """
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -_LOGIT_LIMIT, _LOGIT_LIMIT)))
    keep = scores > threshold
    points = regressors[keep].reshape(-1, 8, 2) / INPUT_SIZE
    anchors = ssd_anchors()[keep][:, None, :]
    centre, size = points[:, 0] + anchors[:, 0], points[:, 1]
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return boxes[valid], scores[keep][valid], (points[:, 2:] + anchors)[valid]


def _iou(box, boxes):
    x0, y0 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    x1, y1 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = (box[2] - box[0]) * (box[3] - box[1]) + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def weighted_nms(boxes, scores, keypoints, iou_threshold=IOU_THRESHOLD):
    """MediaPipe's weighted non-maximum suppression.

    From the best remaining detection, every detection overlapping it by more
    than ``iou_threshold`` (intersection over union) is merged into one: the
    score-weighted mean of their boxes and keypoints, with the best score.

    Returns
    -------
    boxes, scores, keypoints : ndarray
        The merged detections, best first.
    """
    order = np.argsort(-scores, kind="stable")
    boxes, scores, keypoints = boxes[order], scores[order], keypoints[order]
    left = np.ones(len(boxes), dtype=bool)
    kept = []
    for i in range(len(boxes)):
        if not left[i]:
            continue
        group = left & (_iou(boxes[i], boxes) > iou_threshold)
        group[i] = True
        weights = scores[group] / scores[group].sum()
        kept.append((weights @ boxes[group], scores[i],
                     np.tensordot(weights, keypoints[group], axes=1)))
        left &= ~group
    if not kept:
        return np.empty((0, 4)), np.empty(0), np.empty((0, 6, 2))
    return tuple(np.stack(values) for values in zip(*kept))


def run_network(pixels, threshold):
    """Detections of one ``(128, 128, 3)`` uint8 RGB input, in its [0, 1] coordinates."""
    cv2 = opencv()
    with _NETWORKS.borrowed() as net:  # a copy of its own for this thread
        net.setInput(cv2.dnn.blobFromImage(pixels, 1 / 127.5, mean=(127.5, 127.5, 127.5)))
        regressors, logits = net.forward(["regressors", "classificators"])
    return weighted_nms(*decode(regressors.reshape(-1, 16), logits.reshape(-1), threshold))


def windows(height, width, min_size):
    """Square windows ``(x, y, side)`` covering a photo at each scale needed.

    The first scale's windows have the photo's shorter side; each further one
    halves it, down to the side at which a face of ``min_size`` pixels fills
    :data:`SMALLEST` of a window, but never below the network's input size.
    Windows of a scale overlap by half their side, so each face up to half a
    window's side lies whole in one of them.
    """
    side = min(height, width)
    smallest = max(INPUT_SIZE, min_size / SMALLEST) if min_size else side
    found = []
    while True:
        step = max(1, side // 2)
        xs = sorted(set(range(0, max(1, width - side), step)) | {width - side})
        ys = sorted(set(range(0, max(1, height - side), step)) | {height - side})
        found += [(x, y, side) for y in ys for x in xs]
        if side <= smallest:
            return found
        side = int(round(max(smallest, side / 2)))


def raw_detections(rgb, min_size=None, threshold=0.5):
    """BlazeFace's own boxes, scores and keypoints on a photo, in its pixels.

    Detections touching a window's edge inside the photo are dropped (the face
    is cut there and lies whole in an overlapping window), then all windows'
    detections are merged by :func:`weighted_nms`, and a detection lying
    mostly inside a better one is dropped.
    """
    cv2 = opencv()
    height, width = rgb.shape[:2]
    found = []
    for x, y, side in windows(height, width, min_size):
        window = rgb[y:y + side, x:x + side]
        h, w = window.shape[:2]
        scale = INPUT_SIZE / max(h, w)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        pixels = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)
        ox, oy = (INPUT_SIZE - nw) // 2, (INPUT_SIZE - nh) // 2
        pixels[oy:oy + nh, ox:ox + nw] = cv2.resize(
            window, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        boxes, scores, points = run_network(pixels, threshold)
        boxes = (boxes * INPUT_SIZE - [ox, oy, ox, oy]) / scale + [x, y, x, y]
        points = (points * INPUT_SIZE - [ox, oy]) / scale + [x, y]
        inner = np.array([x > 0, y > 0, x + w < width, y + h < height])
        edge = np.abs(boxes - [x, y, x + w, y + h]) < 0.01 * side
        keep = ~(edge & inner).any(axis=1)
        found += list(zip(boxes[keep], scores[keep], points[keep]))
    if not found:
        return np.empty((0, 4)), np.empty(0), np.empty((0, 6, 2))
    boxes, scores, points = weighted_nms(*(np.asarray(values) for values in zip(*found)))
    return _drop_nested(boxes, scores, points)


def _drop_nested(boxes, scores, points, overlap=NESTED_OVERLAP):
    """Drop a detection lying mostly (``overlap`` of its area) inside a better one.

    The network sometimes scores a face at two scales, a box and a smaller one
    inside it, whose intersection over union is too low for NMS to merge them.
    """
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    for i in range(len(boxes)):  # best first, as weighted_nms returns them
        x0 = np.maximum(boxes[i, 0], boxes[keep, 0])
        y0 = np.maximum(boxes[i, 1], boxes[keep, 1])
        x1 = np.minimum(boxes[i, 2], boxes[keep, 2])
        y1 = np.minimum(boxes[i, 3], boxes[keep, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        if not np.any(inter > overlap * np.minimum(areas[i], areas[keep])):
            keep.append(i)
    return boxes[keep], scores[keep], points[keep]


def fer_frames(boxes, keypoints):
    """The square a FER2013 face would fill, for each BlazeFace detection.

    FER2013's faces are framed more loosely than BlazeFace's boxes and centred
    higher; the side and centre of the frame are predicted from the box and
    its keypoints by a linear map fitted on FER2013 *Training* faces pasted in
    photos (``benchmarks/fit_framing.py``).

    Returns
    -------
    frames : ndarray of shape (n, 3)
        ``(centre_x, centre_y, side)`` in pixels.
    """
    sides = boxes[:, 2] - boxes[:, 0]
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    features = (keypoints - centres[:, None, :]) / sides[:, None, None]
    features = np.concatenate([np.ones((len(boxes), 1)), features.reshape(len(boxes), 12)], 1)
    ratio, dx, dy = (features @ framing()).T
    return np.stack([centres[:, 0] + dx * sides, centres[:, 1] + dy * sides, ratio * sides], 1)


def detect_blazeface(rgb, min_size=None, threshold=0.5):
    """Faces of an RGB photo as dicts: ``box`` (FER2013 framing), ``score``, ``keypoints``."""
    boxes, scores, points = raw_detections(rgb, min_size, threshold)
    height, width = rgb.shape[:2]
    faces = []
    for (cx, cy, side), score, kps in zip(fer_frames(boxes, points), scores, points):
        x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
        side = int(round(side))
        if min_size and side < min_size:
            continue
        faces.append({"box": (x0, y0, side, side), "score": float(score),
                      "keypoints": {name: (float(px), float(py))
                                    for name, (px, py) in zip(KEYPOINTS, kps)}})
    return faces

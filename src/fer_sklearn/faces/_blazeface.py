"""BlazeFace: MediaPipe's short-range and full-range CNN face detectors, run by onnxruntime.

The short-range network (``models/blazeface_short_range.onnx``, Apache-2.0,
converted from MediaPipe's TFLite file by ``factory/convert_blazeface.py``)
scores 896 anchors of a 128x128 RGB input; the SSD anchors, the decoding of its
boxes and six keypoints, and MediaPipe's weighted non-maximum suppression are
written here. The network is fully convolutional, so its input may be any size
whose sides are multiples of 16 (the shipped file leaves them free): a photo is
searched in one pass at the scale where its shorter side is 128 pixels (the
network finds faces of about a fifth to the whole of a 128-pixel square), and
in one more pass per halving of that scale when ``min_size`` asks for smaller
faces.

Two more passes, for faces cut by the frame and for smaller and more turned faces,
and the framing of the detections, are :mod:`fer_sklearn.faces._passes`'s.
"""

import functools
from importlib import resources
from typing import NamedTuple

import numpy as np

from ._opencv import opencv

INPUT_SIZE = 128
STRIDE = 16  # the network's coarsest stride: the sides of its input are multiples of it
MAX_PASS = 512  # longest side of one pass, in the network's pixels: larger are cut in tiles


class Net(NamedTuple):
    """One of the shipped BlazeFace networks and how to read its outputs."""

    file: str
    size: int
    """Side of the square input it was trained on: a pass scales the photo to it."""
    layout: tuple
    """``(stride, anchors per cell)`` of each anchor layer (MediaPipe's calculator options)."""
    stride: int
    """Its coarsest stride: the sides of its input are multiples of it."""


# MediaPipe's face_detection_short_range_common.pbtxt and face_detection_full_range.pbtxt
SHORT_RANGE = Net("blazeface_short_range.onnx", INPUT_SIZE, ((8, 2), (16, 6)), STRIDE)
FULL_RANGE = Net("blazeface_full_range.onnx", 192, ((4, 1),), 32)
_ANCHOR_LAYOUT = SHORT_RANGE.layout
_LOGIT_LIMIT = 80.0  # MediaPipe clips at 100, whose sigmoid overflows float32
IOU_THRESHOLD = 0.3  # MediaPipe's min_suppression_threshold
SMALLEST = 0.2  # smallest face found, as a fraction of the side of the square a pass sees
NESTED_OVERLAP = 0.5  # a detection this much inside a better one is the same face
KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear")
"""The six keypoints of a BlazeFace detection, in the model's order (the person's right/left)."""


@functools.lru_cache(maxsize=2)
def network(net=SHORT_RANGE):
    """A network (the short-range one by default) as an onnxruntime session, loaded once.

    One thread per run (the caller's): a session is safe to share between
    threads, so the photos of a batch are searched in threads of their own.
    """
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError(
            "BlazeFace runs on onnxruntime: pip install 'onnxruntime>=1.17'"
        ) from exc
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    model = (resources.files(__package__) / "models" / net.file).read_bytes()
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


@functools.lru_cache(maxsize=16)
def ssd_anchors(height=INPUT_SIZE, width=INPUT_SIZE, layout=_ANCHOR_LAYOUT):
    """Anchor centres ``(n, 2)`` as ``(x, y)`` in [0, 1] of the input, in the output's order.

    896 for a 128x128 input of the short-range network: a cell of 8 pixels
    with 2 anchors, then a cell of 16 with 6, each grid row by row; 2304 for
    the full-range one's 192x192 (a cell of 4 pixels, 1 anchor).
    """
    centres = []
    for stride, per_cell in layout:
        rows, cols = height // stride, width // stride
        yy, xx = np.meshgrid((np.arange(rows, dtype=np.float32) + 0.5) / rows,
                             (np.arange(cols, dtype=np.float32) + 0.5) / cols, indexing="ij")
        centres.append(np.repeat(np.stack([xx.ravel(), yy.ravel()], axis=1), per_cell, axis=0))
    return np.concatenate(centres)


def decode(regressors, logits, threshold, height=INPUT_SIZE, width=INPUT_SIZE,
           layout=_ANCHOR_LAYOUT):
    """Boxes, scores and keypoints of the anchors scoring above ``threshold``.

    Parameters
    ----------
    regressors : ndarray of shape (n_anchors, 16)
        Raw box centre offset, size and six keypoint offsets, in input pixels.
    logits : ndarray of shape (n_anchors,)
        Raw face scores.
    threshold : float
        Smallest sigmoid score kept.
    height, width : int, default=128
        Size of the network's input.
    layout : tuple, default=the short-range network's
        Its anchor layers (:attr:`Net.layout`).

    Returns
    -------
    boxes : ndarray of shape (n, 4)
        ``(xmin, ymin, xmax, ymax)`` in [0, 1] of the input.
    scores : ndarray of shape (n,)
    keypoints : ndarray of shape (n, 6, 2)
    """
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -_LOGIT_LIMIT, _LOGIT_LIMIT)))
    keep = scores > threshold
    points = regressors[keep].reshape(-1, 8, 2) / np.array([width, height], dtype=np.float32)
    anchors = ssd_anchors(height, width, layout)[keep][:, None, :]
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


def network_outputs(pixels, net=SHORT_RANGE):
    """Raw ``(regressors (n_anchors, 16), logits (n_anchors,))`` of one uint8 RGB input.

    ``pixels`` is ``(height, width, 3)``, both multiples of the network's
    stride (``(128, 128, 3)``: 896 anchors of the short-range network).
    """
    x = (pixels.transpose(2, 0, 1)[None].astype(np.float32) - 127.5) / 127.5  # [-1, 1]
    regressors, logits = network(net).run(["regressors", "classificators"], {"input": x})
    return regressors.reshape(-1, 16), logits.reshape(-1)


def run_network(pixels, threshold):
    """Detections of one uint8 RGB input (see :func:`network_outputs`), in its [0, 1]
    coordinates."""
    return weighted_nms(*decode(*network_outputs(pixels), threshold, *pixels.shape[:2]))


def scales(height, width, min_size):
    """The sides of the squares searched, one pass of the network each.

    A pass sees the photo scaled so that a square of that side is the
    network's 128 pixels. The first side is the photo's shorter side; each
    further one halves it, down to the side at which a face of ``min_size``
    pixels fills :data:`SMALLEST` of the square, but never below 128.
    """
    side = min(height, width)
    smallest = max(INPUT_SIZE, min_size / SMALLEST) if min_size else side
    sides = [side]
    while side > smallest:
        side = int(round(max(smallest, side / 2)))
        sides.append(side)
    return sides


def raw_detections(rgb, min_size=None, threshold=0.5):
    """BlazeFace's own boxes, scores and keypoints on a photo, in its pixels.

    The detections of all short-range passes (:func:`scales`) are merged by one
    :func:`weighted_nms`, as MediaPipe merges those of its one input, and a
    detection lying mostly inside a better one is dropped.
    """
    height, width = rgb.shape[:2]
    return merged([_search(rgb, threshold, side) for side in scales(height, width, min_size)])


def merged(found):
    """Detections of several passes ``[(boxes, scores, points), ...]`` merged into one set."""
    boxes, scores, points = (np.concatenate(values) for values in zip(*found))
    if not len(boxes):
        return boxes, scores, points
    return _drop_nested(*weighted_nms(boxes, scores, points))


def tiles(length, size=INPUT_SIZE):
    """``(start, size)`` of the tiles of one side of a scaled photo, in the network's pixels.

    One tile when the side is at most :data:`MAX_PASS` (times ``size / 128``
    for a network of a larger input ``size``); otherwise tiles of that length
    overlapping by ``size`` pixels (the largest face the network finds), so
    that every face lies whole in one of them.
    """
    longest = MAX_PASS * size // INPUT_SIZE
    if length <= longest:
        return [(0, length)]
    starts = set(range(0, length - longest, longest - size)) | {length - longest}
    return [(start, longest) for start in sorted(starts)]


def _search(rgb, threshold, side, net=SHORT_RANGE):
    """Raw detections of a network on the photo scaled so that ``side`` is its input side.

    Decoded, not yet merged by non-maximum suppression; boxes and keypoints
    in photo pixels. A scaled photo larger than :data:`MAX_PASS` on a side is
    searched in :func:`tiles` (bounding the network's memory), and a detection
    touching a tile's edge inside the photo is dropped: the face is cut there
    and lies whole in the overlapping tile.
    """
    cv2 = opencv()
    height, width = rgb.shape[:2]
    scale = net.size / side
    nw, nh = max(1, round(width * scale)), max(1, round(height * scale))
    scaled = cv2.resize(rgb, (nw, nh),
                        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    found = []
    for y, h in tiles(nh, net.size):
        for x, w in tiles(nw, net.size):
            boxes, scores, points = _run_tile(scaled[y:y + h, x:x + w], threshold, net)
            inner = np.array([x > 0, y > 0, x + w < nw, y + h < nh])
            edge = np.abs(boxes - [0, 0, w, h]) < 0.01 * net.size
            keep = ~(edge & inner).any(axis=1)
            found.append(((boxes[keep] + [x, y, x, y]) / scale, scores[keep],
                          (points[keep] + [x, y]) / scale))
    return tuple(np.concatenate(values) for values in zip(*found))


def _run_tile(pixels, threshold, net=SHORT_RANGE):
    """Raw detections of one tile, centred on a black canvas whose sides are multiples of
    the network's stride.

    Boxes and keypoints in the tile's pixels.
    """
    h, w = pixels.shape[:2]
    canvas_h, canvas_w = (-(-max(n, net.size) // net.stride) * net.stride for n in (h, w))
    canvas = np.zeros((canvas_h, canvas_w, 3), dtype=np.uint8)
    ox, oy = (canvas_w - w) // 2, (canvas_h - h) // 2
    canvas[oy:oy + h, ox:ox + w] = pixels
    outputs = network_outputs(canvas) if net is SHORT_RANGE else network_outputs(canvas, net)
    boxes, scores, points = decode(*outputs, threshold, canvas_h, canvas_w, net.layout)
    size = np.array([canvas_w, canvas_h])
    return boxes * np.tile(size, 2) - [ox, oy, ox, oy], scores, points * size - [ox, oy]


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

"""BlazeFace: MediaPipe's short-range and full-range CNN face detectors, run by onnxruntime.

The short-range network (``models/blazeface_short_range.onnx``, Apache-2.0,
converted from MediaPipe's TFLite file by ``benchmarks/convert_blazeface.py``)
scores 896 anchors of a 128x128 RGB input; the SSD anchors, the decoding of its
boxes and six keypoints, and MediaPipe's weighted non-maximum suppression are
written here. The network is fully convolutional, so its input may be any size
whose sides are multiples of 16 (the shipped file leaves them free): a photo is
searched in one pass at the scale where its shorter side is 128 pixels (the
network finds faces of about a fifth to the whole of a 128-pixel square), and
in one more pass per halving of that scale when ``min_size`` asks for smaller
faces.

Two more passes find what that one misses (``benchmarks/bench_real_photos.py``
measures them on the wild part of the real-photo list):

* the *edge pass*: the same network on the photo padded on each side by a
  quarter of its shorter side, mirrored at its edges. A face cut by the frame
  is completed by its own mirror image (a face is nearly symmetric), so it
  fills an anchor as a whole face does. Only detections reaching past an edge
  are kept from it, and of those only the ones centred in the photo (one
  centred outside is the mirror image of a face inside).
* the *full-range pass*: MediaPipe's full-range network
  (``models/blazeface_full_range.onnx``, converted by
  ``benchmarks/convert_blazeface_full_range.py``; made for faces up to five
  metres from a back camera: 2304 anchors on a 192x192 input), which finds
  smaller and more turned faces, at about twice the cost of a short-range
  pass. It runs when the short-range passes found no face or several: a
  photo of one person pays nothing for it, a crowd or a photo where nothing
  was found gets the second opinion.
"""

import functools
import json
from importlib import resources
from typing import NamedTuple

import numpy as np

from ._opencv import opencv
from ._presence import second_look

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
EDGE_PAD = 0.25
"""Padding of the edge pass, per side, as a fraction of the photo's shorter side: the
mirror image completes a face cut by up to half of a face filling half of the side."""
EDGE_TOLERANCE = 0.1
"""A detection is kept if its centre lies inside the photo, or outside by at most this
fraction of its side (a face cut by half is centred on the edge)."""
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


@functools.lru_cache(maxsize=1)
def framing():
    """The linear map from a detection's keypoints to the FER2013 frame (see fit_framing.py)."""
    text = (resources.files(__package__) / "models" / "blazeface_framing.json").read_text()
    return np.asarray(json.loads(text)["coef"], dtype=np.float64)


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
    """Detections of one uint8 RGB input (see :func:`network_outputs`), in its [0, 1] coordinates."""
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


def raw_detections(rgb, min_size=None, threshold=0.5, edges=False):
    """BlazeFace's own boxes, scores and keypoints on a photo, in its pixels.

    The detections of all passes (:func:`scales`, and the edge pass with
    ``edges``) are merged by one :func:`weighted_nms`, as MediaPipe merges
    those of its one input, and a detection lying mostly inside a better one
    is dropped.
    """
    height, width = rgb.shape[:2]
    found = [_search(rgb, threshold, side) for side in scales(height, width, min_size)]
    if edges:
        found.append(edge_pass(rgb, threshold))
    return merged(found)


def merged(found):
    """Detections of several passes ``[(boxes, scores, points), ...]`` merged into one set."""
    boxes, scores, points = (np.concatenate(values) for values in zip(*found))
    if not len(boxes):
        return boxes, scores, points
    return _drop_nested(*weighted_nms(boxes, scores, points))


def edge_pass(rgb, threshold, net=SHORT_RANGE):
    """Detections of faces cut by the frame, found on the photo mirrored past its edges.

    The photo is padded by :data:`EDGE_PAD` of its shorter side, mirrored, and
    searched at the scale where the padded shorter side is the network's input.
    Kept: the detections that reach past an edge of the photo (a face lying
    whole inside is the main pass's, which sees it larger) and are centred in
    it (:func:`inside`: the mirror image of a face near an edge is found too,
    outside). Boxes and keypoints in the photo's pixels.
    """
    cv2 = opencv()
    pad = int(round(EDGE_PAD * min(rgb.shape[:2])))
    padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    boxes, scores, points = _search(padded, threshold, min(padded.shape[:2]), net)
    boxes, points = boxes - pad, points - pad
    height, width = rgb.shape[:2]
    cut = (boxes[:, 0] < 0) | (boxes[:, 1] < 0) | (boxes[:, 2] > width) | (boxes[:, 3] > height)
    return inside(boxes[cut], scores[cut], points[cut], rgb.shape)


def full_range_pass(rgb, threshold):
    """Detections of the full-range network on the photo, its shorter side at 192 pixels."""
    return inside(*_search(rgb, threshold, min(rgb.shape[:2]), FULL_RANGE), rgb.shape)


def inside(boxes, scores, points, shape):
    """The detections centred in a photo of ``shape`` (within :data:`EDGE_TOLERANCE`)."""
    height, width = shape[:2]
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    slack = EDGE_TOLERANCE * (boxes[:, 2] - boxes[:, 0])
    keep = ((centres[:, 0] >= -slack) & (centres[:, 0] <= width + slack)
            & (centres[:, 1] >= -slack) & (centres[:, 1] <= height + slack))
    return boxes[keep], scores[keep], points[keep]


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


def _looked(rgb, found, passes, look_again):
    """The detections ``found`` that pass the second look (all of them without it)."""
    boxes, scores, points = found
    if look_again and len(boxes):
        keep = second_look(rgb, boxes, scores, points, passes)
        boxes, scores, points = boxes[keep], scores[keep], points[keep]
    return boxes, scores, points


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


def detect_blazeface(rgb, min_size=None, threshold=0.5, look_again=True):
    """Faces of an RGB photo as dicts: ``box`` (FER2013 framing), ``score``, ``keypoints``.

    The short-range passes and the edge pass first; then, unless they found
    exactly one face, the full-range pass, its detections merged with theirs.
    With ``look_again``, the less sure candidates must pass
    :func:`~fer_sklearn.faces._presence.second_look`.
    """
    passes = len(scales(*rgb.shape[:2], min_size))
    height, width = rgb.shape[:2]
    short = [_search(rgb, threshold, side) for side in scales(height, width, min_size)]
    short.append(edge_pass(rgb, threshold))
    boxes, scores, points = _looked(rgb, merged(short), passes, look_again)
    if len(boxes) != 1:
        found = merged([*short, full_range_pass(rgb, threshold)])
        boxes, scores, points = _looked(rgb, found, passes, look_again)
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

"""The search of a photo for faces in the wild: faces cut by the frame, turned, in crowds.

BlazeFace's short-range network searches the photo in one pass at the scale where
its shorter side is 128 pixels (:mod:`fer_sklearn.faces._blazeface`). Two more
passes find what that one misses (``benchmarks/bench_real_photos.py`` measures
them on the wild part of the real-photo list):

* the *edge pass*: the same network on the photo padded on each side by a
  quarter of its shorter side, mirrored at its edges. A face cut by the frame
  is completed by its own mirror image (a face is nearly symmetric), so it
  fills an anchor as a whole face does. Only detections reaching past an edge
  are kept from it, and of those only the ones centred in the photo (one
  centred outside is the mirror image of a face inside).
* the *full-range pass*: MediaPipe's full-range network
  (``models/blazeface_full_range.onnx``, converted by
  ``factory/convert_blazeface_full_range.py``; made for faces up to five
  metres from a back camera: 2304 anchors on a 192x192 input), which finds
  smaller and more turned faces, at about twice the cost of a short-range
  pass. It runs when the short-range passes found no face or several: a
  photo of one person pays nothing for it, a crowd or a photo where nothing
  was found gets the second opinion.

Each detection is then framed as FER2013 frames its faces (:func:`fer_frames`).
"""

import functools
import json
from importlib import resources

import numpy as np

from ._blazeface import (
    FULL_RANGE,
    KEYPOINTS,
    SHORT_RANGE,
    _search,
    merged,
    network,
    scales,
)
from ._opencv import opencv
from ._presence import second_look

EDGE_PAD = 0.25
"""Padding of the edge pass, per side, as a fraction of the photo's shorter side: the
mirror image completes a face cut by up to half of a face filling half of the side."""
EDGE_EVIDENCE = 0.2
"""The edge pass runs when the first pass has a candidate scoring above this (below the
threshold of a face) near an edge, other than one around a face found whole inside
(:func:`unexplained`): a face cut by the frame leaves one there. On the tune halves it kept
every cut face found with the pass always on; it runs on 20 of ``bench_vs_fer.py``'s 200
photos of one face (``bench_detection_passes.py``)."""
EDGE_NEAR = 0.02
"""Near an edge: within this fraction of the photo's shorter side, or past it."""
EDGE_TOLERANCE = 0.1
"""A detection is kept if its centre lies inside the photo, or outside by at most this
fraction of its side (a face cut by half is centred on the edge)."""


def detect_blazeface(rgb, min_size=None, threshold=0.5, look_again=True):
    """Faces of an RGB photo as dicts: ``box`` (FER2013 framing), ``score``, ``keypoints``.

    The short-range passes and, where the first of them saw something at an
    edge (:func:`near_an_edge`), the edge pass; then, unless they found
    exactly one face, the full-range pass, which adds the faces they did not
    find (:func:`new_faces`).
    With ``look_again``, the less sure candidates must pass
    :func:`~fer_sklearn.faces._presence.second_look`.
    """
    network(FULL_RANGE)  # loaded with the short-range one: no pause at the first crowd
    height, width = rgb.shape[:2]
    sides = scales(height, width, min_size)
    # the first pass also keeps its weaker candidates, as the edge pass's evidence
    first = _search(rgb, min(EDGE_EVIDENCE, threshold), sides[0])
    short = [tuple(values[first[1] > threshold] for values in first)]
    short += [_search(rgb, threshold, side) for side in sides[1:]]
    short = merged(short)
    if near_an_edge(unexplained(first[0][first[1] > EDGE_EVIDENCE], short[0], rgb.shape),
                    rgb.shape):
        short = with_new_faces(short, merged([edge_pass(rgb, threshold)]))
    found = _looked(rgb, short, len(sides), look_again)
    if len(found[0]) != 1:
        more = new_faces(found, merged([full_range_pass(rgb, threshold)]))
        more = _looked(rgb, more, len(sides), look_again)
        found = tuple(np.concatenate(values) for values in zip(found, more))
    boxes, scores, points = found
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


def _looked(rgb, found, passes, look_again):
    """The detections ``found`` that pass the second look (all of them without it)."""
    boxes, scores, points = found
    if look_again and len(boxes):
        keep = second_look(rgb, boxes, scores, points, passes)
        boxes, scores, points = boxes[keep], scores[keep], points[keep]
    return boxes, scores, points


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


def with_new_faces(found, more):
    """``found``, and of ``more`` the new faces and the better views of faces found.

    A detection of ``more`` centred in a box of ``found`` is the same face, not
    averaged with it (as non-maximum suppression would): the surer of the two is
    kept whole, box, score and keypoints. The edge pass sees a face cut by the
    frame whole, the first pass only the part inside, and the other way round
    for a whole face near an edge, whose mirror image can stretch its box.
    """
    boxes, scores, points = (np.array(values) for values in found)
    new = np.ones(len(more[0]), dtype=bool)
    for i, (box, score, keypoints) in enumerate(zip(*more)):
        cx, cy = (box[:2] + box[2:]) / 2
        same = np.flatnonzero((boxes[:, 0] <= cx) & (cx <= boxes[:, 2]) & (boxes[:, 1] <= cy)
                              & (cy <= boxes[:, 3]))
        if len(same):
            new[i] = False
            j = same[np.argmax(scores[same])]
            if score > scores[j]:
                boxes[j], scores[j], points[j] = box, score, keypoints
    return (np.concatenate([boxes, more[0][new]]), np.concatenate([scores, more[1][new]]),
            np.concatenate([points, more[2][new]]))


def new_faces(found, more):
    """The detections of ``more`` that are none of the faces ``found``.

    One is the same face as one found when either box's centre lies in the
    other: the face found keeps its box and score, so that a face's score does
    not depend on whether a later pass ran.
    """
    if not len(found[0]) or not len(more[0]):
        return more
    boxes = found[0]
    keep = [not (_centred_in(box, boxes).any() or _centred_in(boxes, box[None]).any())
            for box in more[0]]
    return tuple(values[np.array(keep, dtype=bool)] for values in more)


def _centred_in(box, boxes):
    """For each of ``boxes`` ``(n, 4)``, whether the centre(s) of ``box`` lie in it."""
    box = np.atleast_2d(box)
    cx, cy = (box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2
    return ((boxes[:, 0] <= cx) & (cx <= boxes[:, 2]) & (boxes[:, 1] <= cy)
            & (cy <= boxes[:, 3]))


def unexplained(candidates, faces, shape):
    """The ``candidates`` ``(n, 4)`` centred in none of the ``faces`` lying clear of the edges.

    Around a face the network also scores larger, weaker boxes; near an edge
    they reach past it. When the face itself lies whole in the photo (its box
    clear of the edges, see :func:`at_an_edge`), they are that face again,
    not the trace of one cut by the frame.
    """
    whole = faces[~at_an_edge(faces, shape)]
    if not len(whole) or not len(candidates):
        return candidates
    return candidates[[not _centred_in(box, whole).any() for box in candidates]]


def at_an_edge(boxes, shape):
    """For each of ``boxes`` ``(n, 4)``, whether it comes within :data:`EDGE_NEAR` of an edge."""
    height, width = shape[:2]
    margin = EDGE_NEAR * min(height, width)
    return ((boxes[:, 0] < margin) | (boxes[:, 1] < margin)
            | (boxes[:, 2] > width - margin) | (boxes[:, 3] > height - margin))


def near_an_edge(boxes, shape):
    """Whether any of ``boxes`` ``(n, 4)`` comes within :data:`EDGE_NEAR` of an edge."""
    return bool(at_an_edge(boxes, shape).any())


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


@functools.lru_cache(maxsize=1)
def framing():
    """The linear map from a detection's keypoints to the FER2013 frame (see fit_framing.py)."""
    text = (resources.files(__package__) / "models" / "blazeface_framing.json").read_text()
    return np.asarray(json.loads(text)["coef"], dtype=np.float64)


def fer_frames(boxes, keypoints):
    """The square a FER2013 face would fill, for each BlazeFace detection.

    FER2013's faces are framed more loosely than BlazeFace's boxes and centred
    higher; the side and centre of the frame are predicted from the box and
    its keypoints by a linear map fitted on FER2013 *Training* faces pasted in
    photos (``factory/fit_framing.py``).

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

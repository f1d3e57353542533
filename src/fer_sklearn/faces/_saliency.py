"""The saliency maps of the faces of photos, moved from the crops into the photos' pixels."""

import numpy as np
from PIL import Image

from ..explanation import METHODS, explain, overlay_saliency


def check_explain(value):
    """``explain`` of :meth:`EmotionRecognizer.analyze`: a bool, or a method of explain."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, str) and value in METHODS):
        return
    raise ValueError(f"explain must be True, False or one of {list(METHODS)}, got {value!r}")


def crop_square(box, margin):
    """``(x, y, side)``: the square :func:`crop_face` cuts around ``box``, in ``box``'s pixels."""
    x, y, w, h = box
    side = max(w, h) * (1 + 2 * margin)
    x0, y0 = int(round(x + w / 2 - side / 2)), int(round(y + h / 2 - side / 2))
    return x0, y0, max(1, int(round(side)))


def _resize(saliency, width, height):
    return np.asarray(Image.fromarray(saliency.astype(np.float32), mode="F").resize(
        (width, height), Image.Resampling.BILINEAR), dtype=np.float32)


def add_saliency(faces, found, crops, model, emotions, *, margin, explain_as):
    """Add ``saliency`` and ``saliency_box`` to each face dict, in its photo's pixels.

    ``found`` are the detections the faces come from (with the ``bounds``, the photo's
    width and height in its file's pixels, and ``stretched`` where the whole image was the
    face); each map explains the face's predicted emotion on its crop, and is resized onto
    the square the crop was cut from, clipped to the photo.
    """
    if not faces:
        return faces
    classes = np.asarray(model.classes_)
    targets = classes[[emotions.index(face["emotion"]) for face in faces]]
    method = explain_as if isinstance(explain_as, str) else "auto"
    maps = explain(model, np.stack(crops), target=targets, method=method)
    for face, detection, saliency in zip(faces, found, maps):
        width, height = detection["bounds"]
        if detection.get("stretched"):  # the whole image, squeezed into the crop
            face["saliency"], face["saliency_box"] = _resize(saliency, width, height), (
                0, 0, width, height)
            continue
        x0, y0, side = crop_square(face["box"], margin)
        square = _resize(saliency, side, side)
        left, top = max(0, x0), max(0, y0)
        right, bottom = min(width, x0 + side), min(height, y0 + side)
        face["saliency"] = square[top - y0:bottom - y0, left - x0:right - x0].copy()
        face["saliency_box"] = (left, top, right - left, bottom - top)
    return faces


def blend_saliency(pil, faces):
    """Blend each face's ``saliency`` over its ``saliency_box`` of the RGB PIL image ``pil``."""
    pixels = np.array(pil)
    for face in faces:
        if face.get("saliency") is None or face.get("saliency_box") is None:
            raise ValueError("a face has no saliency map: analyze the photo with explain=True")
        x, y, w, h = (int(v) for v in face["saliency_box"])
        saliency = np.asarray(face["saliency"], dtype=np.float32)
        if saliency.shape != (h, w):  # a photo read at another size than analysed
            saliency = _resize(saliency, w, h)
        region = pixels[y:y + h, x:x + w]
        if region.shape[:2] != (h, w):
            raise ValueError(f"the saliency box {face['saliency_box']} is not inside the photo "
                             f"({pil.width}x{pil.height}): annotate the photo it was made of")
        pixels[y:y + h, x:x + w] = overlay_saliency(region, saliency)
    return Image.fromarray(pixels)

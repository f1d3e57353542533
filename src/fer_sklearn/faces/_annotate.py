"""Drawing faces on photos: annotate one photo, or save annotated copies of many."""

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..io import check_color, image_array, open_image
from ._saliency import blend_saliency

# suffixes kept for the annotated copies; another one (.gif, .tif...) is written as .png
_SAVED_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
# formats whose files keep a photo's transparency
_ALPHA_SUFFIXES = (".png", ".webp")
_PALETTE = {"angry": (230, 40, 40), "disgust": (120, 170, 30), "fear": (150, 60, 200),
            "happy": (250, 200, 0), "sad": (40, 110, 230), "surprise": (250, 120, 0),
            "neutral": (200, 200, 200)}


def _has_alpha(pil):
    return pil.mode in ("RGBA", "LA", "PA") or (pil.mode == "P" and "transparency" in pil.info)


def _rgb_image(image, color):
    """A photo (path, PIL image or array) as an RGB PIL image on white, and its alpha or None.

    Transparent parts are flattened on white (their colour channels are often
    black, or anything), and the alpha channel is returned beside, to be
    written back into the copies whose format keeps it.
    """
    if isinstance(image, (str, os.PathLike)):
        pil = open_image(image, "RGBA") if _has_alpha_file(image) else open_image(image, "RGB")
    elif isinstance(image, Image.Image):
        pil = image.convert("RGBA") if _has_alpha(image) else image.convert("RGB")
    else:
        array = image_array(image)
        if array.ndim == 3 and color == "bgr":
            array = np.concatenate([array[..., 2::-1], array[..., 3:]], axis=2)
        pil = Image.fromarray(np.ascontiguousarray(array))
        pil = pil.convert("RGBA") if array.ndim == 3 and array.shape[2] == 4 else pil.convert("RGB")
    if pil.mode != "RGBA":
        return pil, None
    alpha = pil.getchannel("A")
    flat = Image.new("RGB", pil.size, (255, 255, 255))
    flat.paste(pil, mask=alpha)
    return flat, alpha


def _has_alpha_file(path):
    """Whether an image file has transparency (its header only is read)."""
    try:
        with Image.open(path) as pil:
            return _has_alpha(pil)
    except Exception:  # noqa: BLE001 - open_image reports the problem with the file
        return False


def _overlap(a, b):
    """The area shared by two rectangles ``(x0, y0, x1, y1)``."""
    return (max(0, min(a[2], b[2]) - max(a[0], b[0]))
            * max(0, min(a[3], b[3]) - max(a[1], b[1])))


def place_label(box, size, others, placed, width, height):
    """Where to put a label of ``size`` ``(w, h)`` for ``box`` ``(x0, y0, x1, y1)``.

    The places tried, in order: above the box, below it (left-aligned, then
    right-aligned), beside it, then inside it at its top or bottom. The first
    that lies in the photo and covers no other face's box (``others``) and no
    label already placed (``placed``) is taken; when none is free, the one
    covering the least of them (a crowd of faces larger than their labels).

    Returns
    -------
    rectangle : tuple of int
        ``(x0, y0, x1, y1)`` of the label.
    """
    x0, y0, x1, y1 = box
    w, h = size
    candidates = [(x, y) for y in (y0 - h, y1) for x in (x0, x1 - w)]  # above, below
    candidates += [(x1, y0), (x0 - w, y0), (x1, y1 - h), (x0 - w, y1 - h)]  # beside
    candidates += [(x, y) for y in (y0, y1 - h) for x in (x0, x1 - w)]  # inside
    best, best_cost = None, None
    for x, y in candidates:
        x = min(max(0, x), max(0, width - w))  # slid into the photo
        y = min(max(0, y), max(0, height - h))
        rect = (x, y, x + w, y + h)
        cost = (sum(_overlap(rect, other) for other in others) * 2
                + sum(_overlap(rect, label) for label in placed))
        if cost == 0:
            return rect
        if best_cost is None or cost < best_cost:
            best, best_cost = rect, cost
    return best


def _font(size):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow < 10.1
        return ImageFont.load_default()


def annotate(image, faces, *, color="rgb", out=None, saliency=False):
    """Draw each face's box and emotion label on a copy of a photo.

    Parameters
    ----------
    image : str, path-like, PIL.Image.Image or array-like
        The photo (gray, RGB, or BGR with ``color="bgr"``).
    faces : list of dict
        Faces as returned by :meth:`EmotionRecognizer.analyze` (``"box"`` and
        ``"emotion"``; ``"scores"`` adds the emotion's probability to the
        label, and a ``"score"`` that is not None the detection score, as
        ``face 0.93``).
    color : {"rgb", "bgr"}, default="rgb"
        Channel order of a colour array.
    out : str, path-like or None, default=None
        Also save the annotated photo there (format from the extension).
    saliency : bool, default=False
        Also blend each face's saliency map over it (faces from
        ``analyze(..., explain=True)``, which have ``"saliency"``).

    Returns
    -------
    annotated : ndarray of uint8, shape (height, width, 3)
        The RGB photo with the boxes and labels. A photo with transparency
        (a PNG's alpha channel, an RGBA array or PIL image) is flattened on
        white here; the file written to ``out`` keeps the transparency where
        its format has it (``.png``, ``.webp``: the boxes and labels opaque,
        the rest as transparent as in the photo) and is flattened on white
        otherwise (``.jpg``, ``.bmp``).

    Notes
    -----
    All boxes are drawn first, then the labels, each at the first of these
    places that covers no other face's box and no other label: above its box,
    below it, beside it, inside it at the top or bottom; in a crowd where
    none is free, where it covers the least.
    """
    check_color(color)
    pil, alpha = _rgb_image(image, color)
    if saliency:
        pil = blend_saliency(pil, faces)
    boxes, labels = [], []
    for face in faces:
        try:
            x, y, w, h = (int(v) for v in face["box"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"each face needs a 'box' of 4 numbers, got {face!r}") from None
        emotion = face.get("emotion") or "?"
        label = emotion
        if face.get("scores") and emotion in face["scores"]:
            label = f"{emotion} {face['scores'][emotion]:.0%}"
        if face.get("score") is not None:
            label += f", face {float(face['score']):.2f}"
        boxes.append((x, y, x + w, y + h))
        labels.append((label, _PALETTE.get(emotion, (0, 255, 0))))
    mask = None if alpha is None else alpha.copy()
    _draw(ImageDraw.Draw(pil), boxes, labels, pil.size)
    if mask is not None:  # what is drawn is opaque
        _draw(ImageDraw.Draw(mask), boxes, [(text, 255) for text, _ in labels], pil.size, 255)
    if out is not None:
        keeps_alpha = mask is not None and Path(out).suffix.lower() in _ALPHA_SUFFIXES
        (Image.merge("RGBA", (*pil.split(), mask)) if keeps_alpha else pil).save(out)
    return np.asarray(pil, dtype=np.uint8)


def _draw(draw, boxes, labels, size, ink=None):
    """Draw the boxes, then the labels where :func:`place_label` puts them.

    ``labels`` are ``(text, colour)``; ``ink`` (a mask's 255) replaces the text's
    black, so that a mask drawn the same way covers exactly what was drawn.
    """
    width, height = size
    line = max(2, round(min(width, height) / 200))
    font = _font(max(12, round(min(width, height) / 30)))
    for (x0, y0, x1, y1), (_, colour) in zip(boxes, labels):
        draw.rectangle([x0, y0, x1 - 1, y1 - 1], outline=colour, width=line)
    placed = []
    for i, ((text, colour), box) in enumerate(zip(labels, boxes)):
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        pad = max(2, (bottom - top) // 4)
        others = boxes[:i] + boxes[i + 1:]
        rect = place_label(box, (right - left + 2 * pad, bottom - top + 2 * pad), others, placed,
                           width, height)
        placed.append(rect)
        draw.rectangle([rect[0], rect[1], rect[2] - 1, rect[3] - 1], fill=colour)
        draw.text((rect[0] + pad - left, rect[1] + pad - top), text,
                  fill=(0, 0, 0) if ink is None else ink, font=font)


def _target(folder, source, used, sources):
    """A new file in ``folder`` for the copy of ``source``: never a photo read so far."""
    sources.add(source.resolve())
    suffix = source.suffix.lower() if source.suffix.lower() in _SAVED_SUFFIXES else ".png"
    n = 0
    while True:
        target = folder / f"{source.stem}{f'-{n}' if n else ''}{suffix}"
        if target.name not in used and target.resolve() not in sources:
            used.add(target.name)
            return target
        n += 1


def save_annotated(records, folder, *, saliency=False):
    """Save a copy of each analysed photo file with its faces drawn, passing the records on.

    Parameters
    ----------
    records : iterable of dict
        Records of photo files, as streamed by
        :meth:`EmotionRecognizer.analyze_many`; consumed lazily.
    folder : str or path-like
        Where the copies go; created now if needed. Each keeps its file name,
        and its suffix where Pillow writes it (``.png``, ``.jpg``, ``.jpeg``,
        ``.bmp``, ``.webp``; others become ``.png``); a name met twice gets
        ``-1``, ``-2``..., and no copy replaces a photo of ``records``
        read before it.
    saliency : bool, default=False
        Blend the faces' saliency maps over the copies too (records from
        ``analyze_many(..., explain=True)``).

    Returns
    -------
    records : generator of dict
        The records, each with ``"annotated"``: the path of its copy, or None
        for an unreadable file. A photo that can no longer be read (changed
        since its analysis) becomes an ``"error"`` record.

    Raises
    ------
    OSError
        If ``folder`` cannot be created (now) or a copy cannot be written
        (while streaming).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return _save_each(records, folder, saliency)


def _save_each(records, folder, saliency=False):
    used, sources = set(), set()
    for record in records:
        record["annotated"] = None
        if record["status"] != "error":
            target = _target(folder, Path(record["file"]), used, sources)
            try:
                annotate(record["file"], record["faces"], out=target, saliency=saliency)
                record["annotated"] = target
            except ValueError as exc:
                record.update(status="error", faces=[], error=f"annotating: {exc}")
        yield record

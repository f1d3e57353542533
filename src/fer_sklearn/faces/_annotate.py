"""Drawing faces on photos: annotate one photo, or save annotated copies of many."""

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..io import check_color, image_array, open_image
from ._saliency import blend_saliency

# suffixes kept for the annotated copies; another one (.gif, .tif...) is written as .png
_SAVED_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
_PALETTE = {"angry": (230, 40, 40), "disgust": (120, 170, 30), "fear": (150, 60, 200),
            "happy": (250, 200, 0), "sad": (40, 110, 230), "surprise": (250, 120, 0),
            "neutral": (200, 200, 200)}


def _rgb_image(image, color):
    """A photo (path, PIL image or array) as an RGB PIL image."""
    if isinstance(image, (str, os.PathLike)):
        return open_image(image, "RGB")
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    array = image_array(image)
    if array.ndim == 3 and color == "bgr":
        array = array[..., 2::-1]
    return Image.fromarray(np.ascontiguousarray(array)).convert("RGB")


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
        The RGB photo with the boxes and labels.
    """
    check_color(color)
    pil = _rgb_image(image, color)
    if saliency:
        pil = blend_saliency(pil, faces)
    draw = ImageDraw.Draw(pil)
    width, height = pil.size
    line = max(2, round(min(width, height) / 200))
    font = _font(max(12, round(min(width, height) / 30)))
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
        box_color = _PALETTE.get(emotion, (0, 255, 0))
        draw.rectangle([x, y, x + w - 1, y + h - 1], outline=box_color, width=line)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        tw, th = right - left, bottom - top
        pad = max(2, th // 4)
        ty = y - th - 2 * pad if y - th - 2 * pad >= 0 else y + h
        tx = min(max(0, x), max(0, width - tw - 2 * pad))
        draw.rectangle([tx, ty, tx + tw + 2 * pad, ty + th + 2 * pad], fill=box_color)
        draw.text((tx + pad - left, ty + pad - top), label, fill=(0, 0, 0), font=font)
    if out is not None:
        pil.save(out)
    return np.asarray(pil, dtype=np.uint8)


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

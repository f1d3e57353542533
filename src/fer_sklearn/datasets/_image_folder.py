"""load_image_folder: the ``root/<emotion>/*.png`` layout of FER2013 and similar data sets."""

import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..io import IMAGE_SUFFIXES, read_image, resize_square
from ..utils import EMOTIONS, emotion_from_name


def _emotion_folders(root):
    folders = sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise ValueError(
            f"{root} has no emotion folders; expected {root}/<emotion>/*.png with <emotion> "
            f"one of {', '.join(EMOTIONS)}"
        )
    unknown = [p.name for p in folders if _try_emotion(p.name) is None]
    if unknown:
        raise ValueError(
            f"{root}: folder {unknown[0]!r} is not an emotion; valid folder names are "
            f"{', '.join(EMOTIONS)} (case-insensitive; aliases such as anger, happiness, "
            "sadness, surprised are accepted)"
        )
    return [(p, EMOTIONS.index(emotion_from_name(p.name))) for p in folders]


def _try_emotion(name):
    try:
        return emotion_from_name(name)
    except ValueError:
        return None


def load_image_folder(root, *, size=48, return_X_y=False):
    """Load face images from ``root/<emotion>/`` folders.

    The common image-folder edition of FER2013 (``train/angry/*.jpg``, ...).
    Folder names are matched case-insensitively, with the usual aliases
    (``anger``, ``happiness``, ``sadness``, ``surprised``, ``fearful``...).
    Images of any size and colour are read with :func:`read_image` (the
    reader of :mod:`fer_sklearn.faces` too: EXIF orientation applied), and
    resized to ``size`` x ``size`` as face crops are. Files that cannot be
    read are skipped with a warning and listed in ``skipped``.

    Parameters
    ----------
    root : str or path-like
        The folder holding one sub-folder per emotion.
    size : int, default=48
        Side of the output images.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``data``: uint8 ``(n, size, size)``; ``target``: int64 emotion codes;
        ``target_names``: :data:`EMOTIONS`; ``filenames``: the image paths;
        ``skipped``: ``(path, reason)`` of unreadable files.
    (data, target) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder.
    ValueError
        If a sub-folder is not an emotion (the message lists the valid names) or
        no image could be read.
    """
    if not os.path.isdir(root):
        raise FileNotFoundError(f"no image folder at {root}")
    images, codes, filenames, skipped = [], [], [], []
    for folder, code in _emotion_folders(root):
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                images.append(resize_square(read_image(path), size))
            except ValueError as exc:
                skipped.append((str(path), str(exc)))
                continue
            codes.append(code)
            filenames.append(str(path))
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} unreadable image(s) under {root}, first: {skipped[0][1]}",
            stacklevel=2,
        )
    if not images:
        raise ValueError(f"no readable images under {root}/<emotion>/")
    data = np.stack(images)
    target = np.array(codes, dtype=np.int64)
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, target_names=EMOTIONS,
                 filenames=np.array(filenames), skipped=skipped,
                 DESCR=f"Face images read from {root}/<emotion>/, resized to {size}x{size}.")

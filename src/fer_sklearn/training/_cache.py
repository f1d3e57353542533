"""A teacher's outputs over K augmented copies of the training faces, computed once and cached.

On a CPU the teacher's forward pass costs more than the student's training step,
so :class:`DistilledEmotionClassifier` asks the teacher once per augmented copy
instead of once per batch. Copy ``k`` is drawn by the student's augmenter from
a generator seeded with ``(seed, k)``, so it is rebuilt bit for bit from the
faces instead of being stored; only the teacher's log-probabilities go to disk
(``copy-<key>.npy``, 28 bytes a face), named by a digest of everything they
depend on, so a resumed run reuses them and a changed teacher or augmenter
does not. Several processes may share a folder: each claims the copies that
are not yet done (a lock file holding its process id) and waits for the rest.
"""

import hashlib
import os
import time
from pathlib import Path

import numpy as np
import torch

from ..utils import atomic_write

_CHUNK = 1024  # faces per teacher call and per progress line
_WAIT_S = 5.0  # how often a process waiting for another one's copy looks again


def augmented_copy(images, augmenter, seed, k):
    """Copy ``k`` of ``images`` ``(n, 1, h, w)`` through ``augmenter``, as float32 (CPU).

    The same ``(images, augmenter, seed, k)`` gives the same copy: the random
    draws come from torch's generator seeded with ``seed`` and ``k``, restored
    afterwards. ``augmenter=None`` returns the faces themselves.
    """
    tensor = torch.as_tensor(np.asarray(images, dtype=np.float32))
    if augmenter is None:
        return tensor
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed) * 1_000_003 + int(k))
        return torch.cat([augmenter(tensor[i:i + _CHUNK]) for i in range(0, len(tensor), _CHUNK)])


def teacher_log_proba(teacher, views, teacher_columns, *, progress=None):
    """``log p`` of ``teacher`` on ``views`` ``(n, 1, h, w)``, columns in the student's class
    order."""
    out = np.empty((len(views), len(teacher_columns)), dtype=np.float32)
    start = time.perf_counter()
    for i in range(0, len(views), _CHUNK):
        chunk = views[i:i + _CHUNK, 0].numpy()
        proba = np.asarray(teacher.predict_proba(chunk), dtype=np.float64)[:, teacher_columns]
        out[i:i + len(chunk)] = np.log(np.clip(proba, 1e-8, None))
        if progress is not None:
            done = i + len(chunk)
            progress(f"{done}/{len(views)} faces, "
                     f"{done / max(time.perf_counter() - start, 1e-9):.0f} faces/s")
    return out


class TeacherCache:
    """The teacher's log-probabilities over ``n_views`` augmented copies of the faces.

    Parameters
    ----------
    teacher : fitted classifier or pipeline
        Anything with ``predict_proba`` over ``(n, h, w)`` images and ``classes_``.
    teacher_columns : array of int
        The teacher's column of each of the student's classes.
    augmenter : callable or None
        Augments a batch ``(n, 1, h, w)`` (the student's ImageAugmenter).
    seed : int
        Seeds the copies.
    directory : path or None
        Where the outputs are kept between runs; None keeps them in memory only.
    log : callable or None
        Receives one line of progress at a time.
    """

    def __init__(self, teacher, teacher_columns, augmenter, seed, directory=None, log=None):
        self.teacher = teacher
        self.teacher_columns = np.asarray(teacher_columns)
        self.augmenter = augmenter
        self.seed = seed
        self.directory = None if directory is None else Path(directory)
        self.log = log

    def _say(self, line):
        if self.log is not None:
            self.log(line)

    def key(self, images, k):
        """The digest naming copy ``k`` of ``images``: the faces, the augmenter, the teacher."""
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(images, dtype=np.float32).tobytes())
        digest.update(repr((self.augmenter, self.seed, k, self.teacher_columns.tolist())).encode())
        probe = np.asarray(images[:8, 0], dtype=np.float32)
        digest.update(type(self.teacher).__name__.encode())
        digest.update(np.round(np.asarray(self.teacher.predict_proba(probe)), 4).tobytes())
        return digest.hexdigest()[:20]

    def outputs(self, images, n_views):
        """``(views, log_proba)``: copies ``(K, n, 1, h, w)`` float16 and ``(K, n, C)`` float32."""
        views = [augmented_copy(images, self.augmenter, self.seed, k) for k in range(n_views)]
        if self.directory is None:
            outs = [self._compute(v, k) for k, v in enumerate(views)]
        else:
            self.directory.mkdir(parents=True, exist_ok=True)
            outs = self._shared(images, views)
        stacked = torch.stack([v.half() for v in views])
        return stacked, np.stack(outs)

    def _compute(self, view, k):
        self._say(f"teacher on copy {k}: started")
        return teacher_log_proba(self.teacher, view, self.teacher_columns,
                                 progress=lambda line: self._say(f"teacher on copy {k}: {line}"))

    def _shared(self, images, views):
        paths = [self.directory / f"copy-{self.key(images, k)}.npy" for k in range(len(views))]
        outs = [None] * len(views)
        while any(out is None for out in outs):
            progressed = False
            for k, path in enumerate(paths):
                if outs[k] is not None:
                    continue
                if path.exists():
                    outs[k] = np.load(path)
                    progressed = True
                elif _claim(path):
                    try:
                        out = self._compute(views[k], k)
                        with atomic_write(path) as partial:
                            np.save(partial, out)
                    finally:
                        path.with_suffix(".lock").unlink(missing_ok=True)
                    outs[k] = out
                    progressed = True
            if not progressed:
                time.sleep(_WAIT_S)
        return outs


def _claim(path):
    """Take copy ``path`` for this process (a lock holding its id); False if another one has it."""
    lock = path.with_suffix(".lock")
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                owner = int(lock.read_text() or 0)
                fresh = time.time() - lock.stat().st_mtime < 60
            except (OSError, ValueError):
                owner, fresh = 0, True
            if (owner and _alive(owner)) or (not owner and fresh):
                return False  # taken, or being taken right now
            lock.unlink(missing_ok=True)  # left by a process that died
            continue
        with os.fdopen(fd, "w") as file:
            file.write(str(os.getpid()))
        return True
    return False


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

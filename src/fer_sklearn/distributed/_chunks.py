"""Chunks of images to predict: small descriptions sent to a worker, which loads the pixels.

Each chunk's ``load(data)`` runs on the worker and returns ``(keys, images,
errors)``: the keys of the images it could read (row numbers or file
paths), the images as uint8 ``(n, h, w)``, and ``[(key, message), ...]``
for those it could not.
"""

import os
from itertools import islice
from pathlib import Path

import numpy as np

from ..datasets import iter_fer2013_pixels, parse_fer2013_pixels
from ..io import iter_image_paths, read_image, resize_square

_CSV_SUFFIXES = (".csv", ".csv.gz")


def _rows(start, n):
    return np.arange(start, start + n)


class ArrayChunk:
    """Rows ``start:start+len(data)`` of an array, carried in the task."""

    def __init__(self, start, data):
        self.start, self.data = start, data

    def load(self, data=None):
        return _rows(self.start, len(self.data)), self.data, []


class BlockChunk:
    """A block of a dask array, computed on the workers and passed as ``data``."""

    def __init__(self, start):
        self.start = start

    def load(self, data=None):
        data = np.asarray(data)
        return _rows(self.start, len(data)), data, []


class NpyChunk:
    """Rows ``start:stop`` of a ``.npy`` file, read (memory-mapped) by the worker."""

    def __init__(self, path, start, stop):
        self.path, self.start, self.stop = str(path), start, stop

    def load(self, data=None):
        images = np.load(self.path, mmap_mode="r")[self.start:self.stop]
        return _rows(self.start, len(images)), np.array(images), []


class CsvChunk:
    """FER2013 CSV rows (their ``pixels`` fields), parsed by the worker."""

    def __init__(self, path, start, pixels):
        self.path, self.start, self.pixels = str(path), start, pixels

    def load(self, data=None):
        images = parse_fer2013_pixels(self.pixels, self.start, self.path)
        return _rows(self.start, len(self.pixels)), images, []


class FileChunk:
    """Image files, read and resized to ``size`` x ``size`` by the worker."""

    def __init__(self, paths, size):
        self.paths, self.size = [str(p) for p in paths], size

    def load(self, data=None):
        keys, images, errors = [], [], []
        for path in self.paths:
            try:
                images.append(resize_square(read_image(path), self.size))
                keys.append(path)
            except (OSError, ValueError) as exc:  # unreadable or not an image: a row says so
                errors.append((path, f"{type(exc).__name__}: {exc}"))
        images = np.stack(images) if images else np.empty((0, self.size, self.size), np.uint8)
        return np.array(keys, dtype=object), images, errors


def _batched(iterable, n):
    iterator = iter(iterable)
    while batch := list(islice(iterator, n)):
        yield batch


def _csv_chunks(path, chunk_size):
    for start, pixels in iter_fer2013_pixels(path, chunk_size):
        yield CsvChunk(path, start, pixels), None


def _array_chunks(images, chunk_size, client):
    if hasattr(images, "to_delayed") and hasattr(images, "chunks"):  # a dask array
        images = images.rechunk({i: -1 for i in range(1, images.ndim)})
        starts = np.cumsum((0, *images.chunks[0]))
        for start, block in zip(starts, images.to_delayed().ravel()):
            yield BlockChunk(int(start)), client.compute(block)
        return
    for start in range(0, len(images), chunk_size):
        yield ArrayChunk(start, np.asarray(images[start:start + chunk_size])), None


def image_chunks(images, chunk_size, *, size, client):
    """Yield ``(chunk, data)`` pairs for ``images``, lazily, ``chunk_size`` images each.

    Parameters
    ----------
    images : array-like, dask array, or str or path-like
        Images ``(n, h, w)`` (a NumPy array, a memory map, a dask array: its
        row blocks are the chunks), a ``.npy`` file, a FER2013 CSV (its
        ``pixels`` column), an image folder (searched recursively) or a list
        of image files.
    chunk_size : int
        Images per chunk.
    size : int
        Side that image files are resized to.
    client : distributed.Client
        Computes the blocks of a dask array.

    Yields
    ------
    chunk, data
        The chunk, and the future of its block for a dask array (else None).
    """
    if isinstance(images, (str, os.PathLike)):
        path = Path(images)
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {path}")
        if path.is_dir():
            images = [path]
        elif path.name.lower().endswith(".npy"):
            n = len(np.load(path, mmap_mode="r"))
            for start in range(0, n, chunk_size):
                yield NpyChunk(path, start, min(start + chunk_size, n)), None
            return
        elif path.name.lower().endswith(_CSV_SUFFIXES):
            yield from _csv_chunks(path, chunk_size)
            return
        else:
            raise ValueError(f"{path}: expected a folder, a .npy file or a FER2013 CSV "
                             f"(.csv or .csv.gz)")
    if isinstance(images, list) and all(isinstance(i, (str, os.PathLike)) for i in images):
        for paths in _batched(iter_image_paths(images), chunk_size):
            yield FileChunk(paths, size), None
        return
    yield from _array_chunks(images, chunk_size, client)

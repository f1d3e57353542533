"""Batch prediction on a Dask cluster: the fitted model sent once, chunks streamed through it.

The model is broadcast to every worker once; the client submits chunks (at
most ``max_in_flight`` at a time, so neither side holds more than a few
chunks) and hands each result on as soon as it arrives, in whatever order
they finish. The workers read the pixels of files, ``.npy`` files and dask
arrays themselves.
"""

import csv
import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted, check_scalar

from ..utils import emotion_names
from ._chunks import image_chunks
from ._cluster import require_dask
from ._threads import TorchThreadsCall, host_slots


def _input_size(model):
    """Side of the images the model's pipeline resizes to (48 if it does not say)."""
    size = getattr(dict(getattr(model, "steps", [])).get("resize"), "size", None)
    return int(size) if size else 48


def _predict_chunk(model, chunk, data=None):
    """On a worker: load the chunk and return ``(keys, probabilities, errors)``."""
    keys, images, errors = chunk.load(data)
    if len(images) == 0:
        return keys, np.empty((0, len(model.classes_)), np.float32), errors
    return keys, np.asarray(model.predict_proba(images), dtype=np.float32), errors


def _result(future):
    result = future.result()
    future.release()
    return result


def iter_predictions(model, images, *, client, chunk_size=2048, torch_threads=None,
                     max_in_flight=None):
    """Predict the class probabilities of many images on a Dask cluster, chunk by chunk.

    Parameters
    ----------
    model : fitted pipeline or classifier with ``predict_proba``
        Sent to every worker once.
    images : array-like, dask array, or str or path-like
        ``(n, h, w)`` images (a NumPy array, a memory map, or a dask array
        whose row blocks are the chunks), a ``.npy`` file, a FER2013 CSV (its
        ``pixels`` column is parsed on the workers), an image folder or a
        list of image files (read and resized on the workers). Files must be
        readable at the same path by every worker.
    client : distributed.Client
        The cluster.
    chunk_size : int, default=2048
        Images per task.
    torch_threads : int or None, default=None
        Torch threads of each task; None: each worker thread's share of its
        host's cores.
    max_in_flight : int or None, default=None
        Most chunks submitted and not yet received (default: twice the
        cluster's worker threads).

    Yields
    ------
    keys : ndarray
        Row numbers in ``images``, or file paths, of the chunk's images.
    proba : ndarray of shape (len(keys), n_classes)
        Their probabilities, float32, columns in ``model.classes_`` order.
    errors : list of (key, message)
        Files of the chunk that could not be read.

    Examples
    --------
    >>> from fer_sklearn import load_pretrained, make_faces
    >>> from fer_sklearn.distributed import dask_client, iter_predictions
    >>> X, _ = make_faces(300)
    >>> with dask_client(n_workers=2) as client:  # doctest: +SKIP
    ...     for keys, proba, errors in iter_predictions(load_pretrained(), X, client=client,
    ...                                                 chunk_size=200):
    ...         print(keys[0], proba.shape)
    0 (200, 7)
    200 (100, 7)
    """
    distributed = require_dask()
    check_is_fitted(model)
    check_scalar(chunk_size, "chunk_size", numbers.Integral, min_val=1)
    if max_in_flight is None:
        max_in_flight = 2 * max(1, sum(client.nthreads().values()))
    check_scalar(max_in_flight, "max_in_flight", numbers.Integral, min_val=1)
    chunks = image_chunks(images, chunk_size, size=_input_size(model), client=client)
    model_future = client.scatter(model, broadcast=True, hash=False)
    call = TorchThreadsCall(_predict_chunk, torch_threads, host_slots(client))
    pending = distributed.as_completed()
    for chunk, data in chunks:
        if pending.count() >= max_in_flight:
            yield _result(next(pending))
        pending.add(client.submit(call, model_future, chunk, data, pure=False))
    for future in pending:
        yield _result(future)


def write_predictions(model, images, path, *, client, chunk_size=2048, torch_threads=None,
                      max_in_flight=None, progress=None):
    """Predict many images on a Dask cluster and write one CSV row per image as chunks finish.

    Columns: ``key`` (the row number in ``images``, or the file), ``emotion``
    (the most probable class), one probability column per class (emotion
    names) and ``error`` (why a file could not be read; its other fields
    are empty). Rows come in the order the chunks finish.

    Parameters
    ----------
    model : fitted pipeline or classifier with ``predict_proba``
        As in :func:`iter_predictions`.
    images : array-like, dask array, or str or path-like
        As in :func:`iter_predictions`.
    path : str or path-like
        The CSV file to write.
    client, chunk_size, torch_threads, max_in_flight : Client, int, int or None
        As in :func:`iter_predictions`.
    progress : callable or None, default=None
        Called with the number of rows written so far after each chunk.

    Returns
    -------
    n_rows : int
        Rows written.
    """
    names = emotion_names(np.asarray(model.classes_))
    n_rows = 0
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["key", "emotion", *names, "error"])
        for keys, proba, errors in iter_predictions(
                model, images, client=client, chunk_size=chunk_size,
                torch_threads=torch_threads, max_in_flight=max_in_flight):
            best = np.asarray(names, dtype=object)[proba.argmax(axis=1)] if len(proba) else []
            writer.writerows([key, label, *np.round(p, 6), ""]
                             for key, label, p in zip(keys, best, proba))
            writer.writerows([key, "", *[""] * len(names), message] for key, message in errors)
            file.flush()
            n_rows += len(keys) + len(errors)
            if progress is not None:
                progress(n_rows)
    return n_rows

"""Threads per task: one rule for prediction, training and Dask workers.

The rule, in order:

1. A count given explicitly wins: ``n_threads`` or ``--threads``, ``torch.set_num_threads``,
   joblib's ``inner_max_num_threads``, ``fit_on_dask(torch_threads=...)``.
2. Otherwise a process uses the cores it may run on, :func:`available_cores`
   (``joblib.cpu_count()``: CPU affinity, cgroup quotas and ``LOKY_MAX_CPU_COUNT``; the count
   scikit-learn's ``n_jobs=-1`` uses), on Linux, macOS and Windows alike.
3. Tasks that run at the same time on one machine (Dask worker threads, ``n_jobs``
   processes) get an equal share each, :func:`thread_share`, so that together they never
   ask for more threads than there are cores.
4. A prediction of at most :data:`SMALL_BATCH` images runs on one thread: splitting a few
   faces over threads gains little, and threads that wait for each other on busy cores make
   one face take many times longer. A larger one gives its threads whole chunks of images in
   turn, each with one torch thread, so that a thread the OS pauses holds no other back.

Nothing is sampled per call (no load average, no ``/proc``): what other programs will run
next cannot be seen portably, so a machine shared with other jobs is shared by choosing
the counts above (e.g. ``OMP_NUM_THREADS``/``torch.set_num_threads`` of each job).
"""

import functools

import joblib

SMALL_BATCH = 64
"""Most images a prediction runs on one thread."""


@functools.cache
def available_cores():
    """Count the cores this process may use, once per process (``joblib.cpu_count()``).

    Returns
    -------
    n_cores : int
        At least 1.

    Examples
    --------
    >>> from fer_sklearn.utils import available_cores
    >>> available_cores() >= 1
    True
    """
    return max(1, int(joblib.cpu_count()))


def thread_share(slots, cores=None):
    """Share ``cores`` cores among ``slots`` tasks that run at once: threads for each.

    Parameters
    ----------
    slots : int
        Tasks that run at the same time on the machine (Dask worker threads,
        or ``n_jobs`` processes).
    cores : int, default=None
        The machine's cores (default: :func:`available_cores`).

    Returns
    -------
    n_threads : int
        ``cores // slots``, at least 1.

    Examples
    --------
    >>> from fer_sklearn.utils import thread_share
    >>> thread_share(2, cores=16), thread_share(4, cores=2)
    (8, 1)
    """
    cores = available_cores() if cores is None else cores
    return max(1, int(cores) // max(1, int(slots)))


def prediction_threads(n_images, threads):
    """Choose the threads for predicting ``n_images`` when the caller runs ``threads``.

    Parameters
    ----------
    n_images : int
        Images in the prediction.
    threads : int
        The caller's thread count (e.g. ``torch.get_num_threads()``).

    Returns
    -------
    n_threads : int
        1 for at most :data:`SMALL_BATCH` images, else ``threads`` capped at
        :func:`available_cores`, at least 1.

    Examples
    --------
    >>> from fer_sklearn.utils import prediction_threads
    >>> prediction_threads(1, threads=8)
    1
    """
    if n_images <= SMALL_BATCH:
        return 1
    return max(1, min(int(threads), available_cores()))

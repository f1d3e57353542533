"""Torch threads per task: each task slot of a machine gets its share of the machine's cores.

The count follows the package's one thread rule (:mod:`fer_sklearn.utils`'s
:func:`~fer_sklearn.utils.thread_share` of :func:`~fer_sklearn.utils.available_cores`).

torch's thread count belongs to the calling thread (OpenMP), so it is set at
the start of every task, in the thread that runs it: a fit on a Dask worker
then runs with the same number of threads whatever ran there before, and a
search gives the same scores as a serial run with that many threads.
"""

from collections import Counter

import torch

from ..utils import available_cores, thread_share

__all__ = ["Inline", "TorchThreadsCall", "available_cores", "host_slots", "set_torch_threads",
           "thread_share"]


def set_torch_threads(n_threads):
    """Set torch's intra-op threads for the calling thread to ``n_threads``."""
    if torch.get_num_threads() != n_threads:
        torch.set_num_threads(n_threads)


def host_slots(client):
    """Worker threads per host of the cluster of ``client``: ``{host: slots}``."""
    from distributed.comm import get_address_host

    slots = Counter()
    for address, nthreads in client.nthreads().items():
        slots[get_address_host(address)] += nthreads
    return dict(slots)


def _worker_slots(slots_by_host):
    """Task slots on the host of the Dask worker running this task (1 outside a worker)."""
    from distributed import get_worker
    from distributed.comm import get_address_host

    try:
        worker = get_worker()
    except ValueError:
        return 1
    return slots_by_host.get(get_address_host(worker.address), worker.state.nthreads)


class Inline:
    """An argument that travels inside its task instead of being scattered on its own.

    joblib's Dask backend scatters every argument over 1 kB to one worker; data
    held by one worker only is lost with it and cannot be recomputed. Small
    per-task arguments (a fold's indices) are wrapped in this object, which
    cannot be weakly referenced and so is never scattered.
    """

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __reduce__(self):
        return Inline, (self.value,)


def _unwrap(value):
    return value.value if isinstance(value, Inline) else value


class TorchThreadsCall:
    """``function(*args, **kwargs)`` run with a fixed number of torch threads in the calling thread.

    Parameters
    ----------
    function : callable
        What to run.
    n_threads : int or None, default=None
        Torch threads; None: the share of the worker's host cores of each of
        its task slots (``slots_by_host``).
    slots_by_host : dict, default=None
        Dask worker threads per host, from :func:`host_slots`.
    """

    def __init__(self, function, n_threads=None, slots_by_host=None):
        self.function = function
        self.n_threads = n_threads
        self.slots_by_host = slots_by_host
        # dask names the task after this (e.g. batch_of__fit_and_score_3_calls)
        self.__name__ = getattr(function, "__name__", type(function).__name__)

    def threads(self):
        """The torch threads this call runs with, on the machine that runs it."""
        if self.n_threads is not None:
            return self.n_threads
        return thread_share(_worker_slots(self.slots_by_host or {}))

    def __call__(self, *args, **kwargs):
        set_torch_threads(self.threads())
        return self.function(*map(_unwrap, args), **{k: _unwrap(v) for k, v in kwargs.items()})

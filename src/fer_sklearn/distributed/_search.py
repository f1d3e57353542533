"""Hyper-parameter searches on a Dask cluster through joblib's Dask backend.

``TorchDaskBackend`` is joblib's Dask backend with two changes for searches
over torch models: every fit sets torch's threads in the thread that runs it
(joblib's ``inner_max_num_threads``, default each worker's share of its
host's cores), and nothing that cannot be recomputed lives on one worker only
(the data are broadcast to every worker, a fold's indices travel inside its
task), so a worker lost mid-search costs only the fits it was running.
"""

import numpy as np
from joblib import parallel_config, register_parallel_backend

# joblib names its Dask backend only as "dask"; extending it means subclassing the class
from joblib._dask import DaskDistributedBackend
from sklearn.base import is_classifier
from sklearn.model_selection import ParameterGrid, ParameterSampler, check_cv

from ._cluster import require_dask
from ._threads import Inline, TorchThreadsCall, host_slots

BACKEND_NAME = "fer-dask"

# arguments up to this size travel inside their task; bigger ones are scattered by joblib
_INLINE_MAX_BYTES = 1 << 20


class TorchDaskBackend(DaskDistributedBackend):
    """Joblib's Dask backend for torch fits: threads set per fit, no data on one worker only.

    Registered with joblib as ``"fer-dask"``: ``GridSearchCV(...).fit(X, y)``
    inside ``joblib.parallel_config("fer-dask", scatter=[X, y],
    inner_max_num_threads=2)`` runs every fit on the default Dask client with
    2 torch threads. Without ``inner_max_num_threads`` each fit gets the
    share of its host's cores of each worker thread on that host.

    Parameters
    ----------
    *args : tuple
        As joblib's Dask backend.
    progress : callable or None, default=None
        Called with the number of calls of each batch that finishes (in the
        client's event-loop thread).
    **kwargs : dict
        As joblib's Dask backend (``client``, ``scatter``: data to broadcast
        to every worker, ``scheduler_host``...).
    """

    supports_inner_max_num_threads = True

    def __init__(self, *args, progress=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.progress = progress
        self.slots_by_host = host_slots(self.client)

    def _inline(self, value):
        if id(value) in self.data_futures:  # broadcast already
            return value
        if isinstance(value, np.ndarray) and value.nbytes <= _INLINE_MAX_BYTES:
            return Inline(value)
        return value

    def submit(self, func, callback=None):
        """Wrap each call of the batch ``func`` (a fixed torch thread count, inline arguments).

        Parameters
        ----------
        func : callable
            Joblib's batch of calls.
        callback : callable, default=None
            Called by joblib when the batch finishes.

        Returns
        -------
        future : distributed.Future
            The submitted batch.
        """
        n_threads = getattr(self, "inner_max_num_threads", None)
        func.items = [
            (TorchThreadsCall(function, n_threads, self.slots_by_host),
             [self._inline(arg) for arg in args],
             {key: self._inline(value) for key, value in kwargs.items()})
            for function, args, kwargs in func.items
        ]
        if self.progress is not None and callback is not None:
            callback = _Counted(callback, self.progress, len(func))
        return super().submit(func, callback=callback)


class _Counted:
    """A joblib batch callback that also reports the batch's calls to ``progress``."""

    def __init__(self, callback, progress, n_calls):
        self.callback, self.progress, self.n_calls = callback, progress, n_calls

    def __call__(self, result):
        self.progress(self.n_calls)
        return self.callback(result)


register_parallel_backend(BACKEND_NAME, TorchDaskBackend)


def count_fits(search, X, y=None, groups=None):
    """The fits (candidates times folds) that ``search.fit(X, y)`` runs, without its refit.

    Parameters
    ----------
    search : GridSearchCV or RandomizedSearchCV
        An unfitted search.
    X, y, groups : array-like or None
        What it will be fitted on.

    Returns
    -------
    n_fits : int
        Candidates times cross-validation splits.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.linear_model import LogisticRegression
    >>> from fer_sklearn.distributed import count_fits
    >>> search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1, 10]}, cv=3)
    >>> count_fits(search, np.zeros((9, 2)), np.arange(9) % 3)
    9
    """
    if hasattr(search, "param_grid"):
        n_candidates = len(ParameterGrid(search.param_grid))
    else:
        n_candidates = len(ParameterSampler(search.param_distributions, search.n_iter,
                                            random_state=search.random_state))
    cv = check_cv(search.cv, y, classifier=is_classifier(search.estimator))
    return n_candidates * cv.get_n_splits(X, y, groups)


class _Progress:
    """Fits done so far, reported as ``callback(done, total)``."""

    def __init__(self, total, callback):
        self.done, self.total, self.callback = 0, total, callback

    def __call__(self, n_calls):
        self.done += n_calls
        self.callback(self.done, self.total)


def fit_on_dask(search, X, y=None, *, client=None, torch_threads=None, progress=None,
                **fit_params):
    """Fit a scikit-learn search with its fits spread over a Dask cluster.

    The search runs under joblib's Dask backend (:class:`TorchDaskBackend`):
    ``X`` and ``y`` are broadcast to every worker once, each fit sets torch's
    threads where it runs, and a worker lost mid-search only costs the fits
    it was running (Dask runs them again elsewhere). With the same
    ``random_state`` and torch thread count, the scores are those of a serial
    ``search.fit(X, y)``. The refit of the best candidate runs in this process.

    Parameters
    ----------
    search : GridSearchCV or RandomizedSearchCV
        The search, e.g. over :func:`~fer_sklearn.make_emotion_pipeline`;
        its ``n_jobs`` must be None or -1 (the cluster decides).
    X, y : array-like
        Training data.
    client : distributed.Client, default=None
        The cluster (default: Dask's default client).
    torch_threads : int or None, default=None
        Torch threads of each fit; None: each worker thread's share of its
        host's cores (one per core on a cluster of one-thread workers, one
        per core).
    progress : callable or None, default=None
        Called as ``progress(done, total)`` each time fits finish.
    **fit_params
        Passed to ``search.fit``.

    Returns
    -------
    search : GridSearchCV or RandomizedSearchCV
        The search, fitted.

    Raises
    ------
    ValueError
        If ``search.n_jobs`` asks for a number of processes.
    ImportError
        If dask is not installed (the message says which extra to install).

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from fer_sklearn import make_emotion_pipeline
    >>> from fer_sklearn.distributed import dask_client, fit_on_dask
    >>> search = GridSearchCV(make_emotion_pipeline(random_state=0),
    ...                       {"clf__lr": [1e-3, 3e-4]}, cv=3)
    >>> with dask_client(n_workers=2) as client:  # doctest: +SKIP
    ...     fit_on_dask(search, X, y, client=client, progress=print)
    """
    distributed = require_dask()
    if search.n_jobs not in (None, -1):
        raise ValueError(f"search.n_jobs={search.n_jobs} would run the fits in this process's "
                         "own pool; leave it None to run them on the Dask cluster")
    client = client if client is not None else distributed.get_client()
    counter = None
    if progress is not None:
        counter = _Progress(count_fits(search, X, y, fit_params.get("groups")), progress)
    data = [value for value in (X, y) if value is not None]
    backend = TorchDaskBackend(client=client, scatter=data, progress=counter)
    with parallel_config(backend=backend, inner_max_num_threads=torch_threads):
        return search.fit(X, y, **fit_params)

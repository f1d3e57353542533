"""Dask clients: a local cluster of worker processes, or a running scheduler, failing fast."""

import contextlib
import logging

from ._threads import available_cores

INSTALL_HINT = "pip install 'fer-sklearn[dask]'"


def require_dask():
    """Import ``distributed``, or raise an ImportError saying which extra to install.

    Returns
    -------
    distributed : module
        The ``distributed`` package.

    Raises
    ------
    ImportError
        If dask or distributed is not installed.
    """
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError as exc:
        raise ImportError(f"running on Dask needs dask and distributed: {INSTALL_HINT} "
                          f"({exc})") from exc
    return distributed


def connect(address, *, timeout=5):
    """A :class:`distributed.Client` of the scheduler at ``address``, or a clear error in seconds.

    Parameters
    ----------
    address : str
        The scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    timeout : float, default=5
        Seconds to wait for it.

    Returns
    -------
    client : distributed.Client
        Connected to the scheduler.

    Raises
    ------
    ValueError
        If ``address`` is not an address (an unknown scheme).
    ConnectionError
        If no Dask scheduler answers at ``address`` within ``timeout`` seconds.
    """
    distributed = require_dask()
    try:
        return distributed.Client(address, timeout=timeout)
    except ValueError as exc:
        raise ValueError(f"{address!r} is not a Dask scheduler address ({exc}); "
                         f"expected e.g. tcp://host:8786") from exc
    except OSError as exc:  # refused, unreachable or unknown host: Dask's timeout error says so
        raise ConnectionError(f"no Dask scheduler reachable at {address} within {timeout} s "
                              f"({exc})") from exc
    except Exception as exc:  # something answered, but not in Dask's protocol
        raise ConnectionError(f"the service at {address} does not answer as a Dask scheduler "
                              f"({type(exc).__name__}: {exc})") from exc


@contextlib.contextmanager
def dask_client(scheduler=None, *, n_workers=None, timeout=5, **cluster_kwargs):
    """A Dask client for a ``with`` block: a running scheduler's, or a new local cluster's.

    Parameters
    ----------
    scheduler : str or None, default=None
        Address of a running scheduler (``tcp://host:8786``); None starts a
        :class:`distributed.LocalCluster` of ``n_workers`` processes with one
        thread each, closed at the end of the block.
    n_workers : int or None, default=None
        Local worker processes (default: one per available core).
    timeout : float, default=5
        Seconds to wait for the scheduler (see :func:`connect`).
    **cluster_kwargs
        Passed to :class:`distributed.LocalCluster` (e.g. ``memory_limit``;
        the dashboard, where bokeh is installed, is on a free port:
        ``client.dashboard_link``).

    Yields
    ------
    client : distributed.Client
        Also the default client inside the block.

    Examples
    --------
    >>> from fer_sklearn.distributed import dask_client
    >>> with dask_client(n_workers=2) as client:  # doctest: +SKIP
    ...     sum(client.nthreads().values())
    2
    """
    distributed = require_dask()
    if scheduler is not None:
        client = connect(scheduler, timeout=timeout)
        with client:
            yield client
        return
    options = dict(n_workers=n_workers or available_cores(), threads_per_worker=1,
                   processes=True, dashboard_address=":0", silence_logs=logging.ERROR)
    options.update(cluster_kwargs)
    with distributed.LocalCluster(**options) as cluster, distributed.Client(cluster) as client:
        yield client

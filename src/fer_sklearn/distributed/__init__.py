"""Scale out on Dask: hyper-parameter searches and batch prediction over a cluster.

Needs the ``dask`` extra (``pip install 'fer-sklearn[dask]'``). A search
runs as scikit-learn intends, under joblib's Dask backend, with every fit
setting torch's threads where it runs (:func:`fit_on_dask`, or the joblib
backend ``"fer-dask"`` registered on import); batch prediction sends the
fitted pipeline to every worker once and streams chunks of images through
them (:func:`iter_predictions`, :func:`write_predictions`). See
``docs/scale_out.md``.
"""

from ._cluster import INSTALL_HINT, connect, dask_client, require_dask
from ._predict import iter_predictions, write_predictions
from ._search import BACKEND_NAME, TorchDaskBackend, count_fits, fit_on_dask
from ._threads import available_cores, thread_share

__all__ = [
    "BACKEND_NAME", "INSTALL_HINT", "TorchDaskBackend", "available_cores", "connect",
    "count_fits", "dask_client", "fit_on_dask", "iter_predictions", "require_dask",
    "thread_share", "write_predictions",
]

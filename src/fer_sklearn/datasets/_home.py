"""Where fer-sklearn's data sets live: ``get_data_home``, as scikit-learn's loaders have it."""

import os
from pathlib import Path

DATA_VARIABLE = "FER_SKLEARN_DATA"


def _beside_the_checkout():
    """``shared/data`` beside a source checkout of the package, or None.

    The project's machines keep FER2013 there, next to the clone (``../shared/data``
    from its root); an installed package has no checkout around it and finds none.
    """
    for folder in Path(__file__).resolve().parents:
        if (folder / "pyproject.toml").is_file():
            candidate = folder.parent / "shared" / "data"
            return candidate if candidate.is_dir() else None
    return None


def get_data_home(data_home=None):
    """Return the folder of fer-sklearn's data sets.

    In order: ``data_home`` when given; the environment variable
    ``FER_SKLEARN_DATA``; ``shared/data`` beside the source checkout the package
    runs from, where it exists; else ``~/fer_sklearn_data``. FER2013 is
    expected in its ``fer2013`` folder (:func:`fer2013_file`). Nothing is
    created or downloaded.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        A folder to use instead.

    Returns
    -------
    data_home : pathlib.Path
        The folder (which may not exist).

    Examples
    --------
    >>> from fer_sklearn.datasets import get_data_home
    >>> str(get_data_home("/data/faces"))
    '/data/faces'
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    if os.environ.get(DATA_VARIABLE):
        return Path(os.environ[DATA_VARIABLE]).expanduser()
    return _beside_the_checkout() or Path("~/fer_sklearn_data").expanduser()


def fer2013_file(data_home=None):
    """Return the path of the FER2013 CSV in the data home: ``<data home>/fer2013/fer2013.csv.gz``.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        As :func:`get_data_home` takes it.

    Returns
    -------
    path : pathlib.Path
        The file's path (which may not exist: FER2013 is not downloaded).
    """
    return get_data_home(data_home) / "fer2013" / "fer2013.csv.gz"

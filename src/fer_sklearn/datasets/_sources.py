"""Labelled faces from a path that may be a FER2013 CSV or an image folder, split for use."""

from pathlib import Path

from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from ..utils import EMOTIONS
from ._fer2013 import load_fer2013, select_usage
from ._image_folder import load_image_folder

_CSV_SUFFIXES = (".csv", ".csv.gz", ".gz")
_VALID_FOLDERS = ("test", "valid", "val", "validation")


def _faces(data, target, descr):
    return Bunch(data=data, target=target, target_names=EMOTIONS, DESCR=descr)


def _check_source(path):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if path.is_file() and not path.name.lower().endswith(_CSV_SUFFIXES):
        raise ValueError(f"{path}: expected a FER2013 CSV file (.csv or .csv.gz) or an image "
                         "folder")
    return path


def _folder(folder):
    data, target = load_image_folder(folder, return_X_y=True)
    return _faces(data, target, f"{len(target)} images from {folder}")


def _labelled_csv(path):
    bunch = load_fer2013(path)
    if bunch.target is None:
        raise ValueError(f"{path} has no 'emotion' column: its faces have no labels")
    return bunch


def _usage(bunch, usage, path):
    subset = select_usage(bunch, usage)  # its ValueError lists the file's usages
    return _faces(subset.data, subset.target, f"{len(subset.target)} images from {path} ({usage})")


def load_dataset(path, *, usage=None):
    """Load one split of labelled faces from a FER2013 CSV or an image folder.

    Parameters
    ----------
    path : str or path-like
        A FER2013 CSV (``.csv`` or ``.csv.gz``, see :func:`load_fer2013`) or a
        folder of ``<emotion>/`` folders (see :func:`load_image_folder`), which
        may hold them in split sub-folders (``test/<emotion>/``...).
    usage : str or None, default=None
        For a CSV, the ``Usage`` to keep (default: ``"PublicTest"`` when the
        file has it, else every row); for a folder, the sub-folder to read
        (default: ``test`` when there is one, else the folder itself).

    Returns
    -------
    data : Bunch
        ``data``: uint8 ``(n, h, w)`` images; ``target``: int64 emotion codes;
        ``target_names``: :data:`EMOTIONS`; ``DESCR``: what was loaded, e.g.
        ``"3589 images from fer2013.csv (PublicTest)"``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If it is neither a CSV nor a folder, has no labels, lacks ``usage``,
        or cannot be read (the message says why).
    """
    path = _check_source(path)
    if path.is_dir():
        if usage is None and (path / "test").is_dir():
            usage = "test"
        folder = path if usage is None else path / usage
        if not folder.is_dir():
            raise ValueError(f"{path} has no '{usage}' sub-folder")
        return _folder(folder)
    bunch = _labelled_csv(path)
    if usage is None:
        if "PublicTest" not in set(bunch.usage.tolist()):
            return _faces(bunch.data, bunch.target, f"all {len(bunch.target)} images from {path}")
        usage = "PublicTest"
    return _usage(bunch, usage, path)


def load_train_valid(path, *, valid_usage=None, valid_size=0.1, random_state=None):
    """Load training and validation faces from a FER2013 CSV or an image folder.

    A CSV with a ``Training`` usage gives its ``Training`` rows and its
    ``valid_usage`` rows (``PublicTest`` by default, where the file has it);
    a folder with a ``train/`` sub-folder gives it and its ``test/`` (or
    ``valid/``, ``val/``, ``validation/``) sub-folder. Anything else, a CSV of
    ``Training`` rows only included, is split at random, stratified by
    emotion (as skorch's ``ValidSplit`` does), and the validation set's
    ``DESCR`` says so.

    Parameters
    ----------
    path : str or path-like
        A FER2013 CSV or a folder, as for :func:`load_dataset`.
    valid_usage : str or None, default=None
        The CSV ``Usage`` to validate on; None: ``"PublicTest"`` where the file
        has it, else a random ``valid_size`` split of the training rows.
    valid_size : float, default=0.1
        Share of the faces held out for validation by a random split.
    random_state : int, RandomState or None, default=None
        Seed of the random split.

    Returns
    -------
    train, valid : Bunch
        As returned by :func:`load_dataset`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        As :func:`load_dataset`, or if the CSV lacks ``valid_usage``.
    """
    path = _check_source(path)
    if path.is_dir():
        if (path / "train").is_dir():
            train = _folder(path / "train")
            valid_name = next((n for n in _VALID_FOLDERS if (path / n).is_dir()), None)
            if valid_name is not None:
                return train, _folder(path / valid_name)
        else:
            train = _folder(path)
        what = train.DESCR
    else:
        bunch = _labelled_csv(path)
        usages = set(bunch.usage.tolist())
        if "Training" in usages and (valid_usage is not None or "PublicTest" in usages):
            valid = _usage(bunch, valid_usage or "PublicTest", path)  # lists the file's usages
            return _usage(bunch, "Training", path), valid
        if "Training" in usages:
            bunch, what = select_usage(bunch, "Training"), f"{path}, Training; it has no PublicTest"
        else:
            what = f"{path}"
        train = _faces(bunch.data, bunch.target, "")
    X, Xv, y, yv = train_test_split(train.data, train.target, test_size=valid_size,
                                    stratify=train.target, random_state=random_state)
    return (_faces(X, y, f"{len(y)} images ({what}, {1 - valid_size:.0%})"),
            _faces(Xv, yv, f"the other {len(yv)} (a {valid_size:.0%} split, stratified by "
                           "emotion)"))

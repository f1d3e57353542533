"""Files that appear whole or not at all."""

import contextlib
import os
import shutil
import uuid
from pathlib import Path


def _umask():
    """The process's umask, read without changing it where Linux tells it."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)  # elsewhere: set and restored at once
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_write(path):
    """Write ``path`` through a temporary name beside it, put in its place only when complete.

    A reader never sees a half-written file, and a crash or an exception in
    the block leaves the previous ``path`` (if any) as it was and no temporary
    behind. A file gets the permissions of the umask, as any other file does
    (some writers, safetensors' among them, create theirs readable by their
    owner only), and is flushed to disk before it replaces ``path``. Works
    for a folder too (an existing ``path`` folder is removed first, then
    replaced).

    Parameters
    ----------
    path : str or path-like
        The file (or folder) to write.

    Yields
    ------
    partial : Path
        Where to write: a hidden name in the folder of ``path``, ending in the
        same suffix (``np.save`` keeps it as given).

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from fer_sklearn.utils import atomic_write
    >>> path = Path(tempfile.mkdtemp()) / "settings.json"
    >>> with atomic_write(path) as partial:
    ...     _ = partial.write_text(json.dumps({"epochs": 3}))
    >>> json.loads(path.read_text())
    {'epochs': 3}
    """
    path = Path(path)
    partial = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.partial{path.suffix}")
    try:
        yield partial
        if partial.is_file():
            os.chmod(partial, 0o666 & ~_umask())
            with open(partial, "rb+") as file:
                os.fsync(file.fileno())
        elif partial.is_dir() and path.is_dir():
            shutil.rmtree(path)
        os.replace(partial, path)
    finally:
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        elif partial.exists():
            partial.unlink()

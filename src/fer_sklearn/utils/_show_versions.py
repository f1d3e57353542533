"""show_versions: the versions, the CPU and the arithmetic predictions use, for bug reports."""

import platform
import sys
from importlib.metadata import PackageNotFoundError, version

from ._cpu import describe_cpu
from ._threads import available_cores

_PACKAGES = ("fer-sklearn", "torch", "skorch", "scikit-learn", "numpy", "joblib", "threadpoolctl",
             "onnxruntime", "opencv-python-headless")


def show_versions(file=None):
    """Print the Python, package versions, CPU features and the CPU's ``precision="auto"``.

    ``precision="auto"`` on a CPU predicts in bf16 where the CPU has AMX, in int8
    where it has VNNI (models with int8 ranges), else in float32: this report says
    which one this process chose, from the flags torch reads (``ATEN_CPU_CAPABILITY``
    and ``ONEDNN_MAX_CPU_ISA`` lower them), and the cores the thread rule counts.

    Parameters
    ----------
    file : file-like, default=None
        Where to print (default: ``sys.stdout``).

    Examples
    --------
    >>> import io
    >>> import fer_sklearn
    >>> out = io.StringIO()
    >>> fer_sklearn.show_versions(file=out)
    >>> "precision auto (CPU)" in out.getvalue()
    True
    """
    lines = ["System:", f"    python: {sys.version.split()[0]}",
             f"  platform: {platform.platform()}", "", "Packages:"]
    for name in _PACKAGES:
        try:
            lines.append(f"    {name}: {version(name)}")
        except PackageNotFoundError:
            lines.append(f"    {name}: not installed")
    lines += ["", "CPU:"] + [f"    {key}: {value}" for key, value in describe_cpu().items()]
    lines.append(f"    cores (joblib.cpu_count): {available_cores()}")
    print("\n".join(lines), file=file or sys.stdout)

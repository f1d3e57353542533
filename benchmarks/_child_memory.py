"""Run a command in a child process and sample its resident memory (Linux ``/proc``).

Used by ``bench_hostile.py`` and ``bench_streaming.py``: the peak is the child's own
high-water mark (``VmHWM``, read until it exits), not ``ru_maxrss``, which keeps the
forking parent's size.
"""

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _status(pid):
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # exited
        return None
    values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M))
    return {k: int(v) / 1024 for k, v in values.items()} or None


def run_sampled(args, *, every=0.2, progress=None):
    """Run ``fer-sklearn ARGS`` in a child; return its exit code, output and memory samples.

    Parameters
    ----------
    args : list of str
        Arguments of ``python -m fer_sklearn``.
    every : float, default=0.2
        Seconds between samples.
    progress : callable or None
        Called at each sample; its value is stored with it (e.g. rows written so far).

    Returns
    -------
    result : dict
        ``returncode``, ``stderr`` (its last 2,000 characters), ``seconds``,
        ``peak_mib`` (the child's high-water mark) and ``samples``: ``[seconds,
        rss_mib, progress]`` lists.
    """
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:  # a pipe could fill up and stall the child
        child = subprocess.Popen([sys.executable, "-m", "fer_sklearn", *args], cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=errors, text=True)
        samples, peak = [], 0.0
        while child.poll() is None:
            status = _status(child.pid)
            if status:
                peak = max(peak, status.get("VmHWM", 0.0))
                samples.append([round(time.perf_counter() - start, 2), round(status["VmRSS"], 1),
                                progress() if progress else None])
            time.sleep(every)
        errors.seek(0)
        stderr = errors.read()
    return {"returncode": child.returncode, "stderr": stderr[-2000:],
            "seconds": round(time.perf_counter() - start, 1), "peak_mib": round(peak, 1),
            "samples": samples}

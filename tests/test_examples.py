"""Run every gallery example (plot_*.py) as a script; each must finish within a minute."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import fer_sklearn

ROOT = Path(fer_sklearn.__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))


def test_examples_exist():
    if not (ROOT / "examples").is_dir():
        pytest.skip("not running from a source checkout")
    names = {path.name for path in EXAMPLES}
    assert {"plot_quick_start.py", "plot_grid_search.py", "plot_evaluation_report.py",
            "plot_persistence.py"} <= names
    for path in EXAMPLES:
        text = path.read_text()
        assert text.startswith('"""\n=') and "# %%" in text, path.name


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(script, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1",
               PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]

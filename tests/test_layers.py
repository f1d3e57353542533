"""The package's layers: imports go one way, at the top of files, through public names.

``lint-imports`` checks the layer contract of ``pyproject.toml`` (each subpackage
imports only those below it, so no import circle can form); the other two tests
read the sources' syntax trees. Under 5 s, no model is built.
"""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import fer_sklearn

PACKAGE = Path(fer_sklearn.__file__).resolve().parent
ROOT = PACKAGE.parents[1]
# an import inside a function only for an optional extra, or a native library that
# faces loads at its first use behind an install hint (OpenCV, onnxruntime)
LAZY = ("onnx", "onnxruntime", "dask", "distributed", "cv2", "torch.ao")
# the command line imports the library when a verb runs, so that ``--help`` stays light
# (test_cli.py::test_help_imports_nothing_heavy)
LAZY_PACKAGES = ("cli",)
# files that still import inside a function, each with the module (none left)
KNOWN = set()
# the package's version, used by every subpackage
SHARED = ("fer_sklearn",)


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        package = relative.parts[:-1]  # the subpackage the module is in, () at the root
        yield relative, package, ast.parse(path.read_text(encoding="utf-8"))


def _target(node, package):
    """The absolute module an ``ImportFrom`` reads from."""
    if not node.level:
        return node.module or ""
    base = ["fer_sklearn", *package][:len(package) + 2 - node.level]
    return ".".join(base + ([node.module] if node.module else []))


def _lint_imports(source):
    """Run ``lint-imports`` with the contract of pyproject.toml on the package in ``source``."""
    command = Path(sys.executable).parent / "lint-imports"
    if not command.exists():
        command = shutil.which("lint-imports")
    assert command, "lint-imports is missing: pip install -e '.[test]' (import-linter)"
    env = dict(os.environ, PYTHONPATH=str(source))
    return subprocess.run([str(command), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, cwd=source, env=env, timeout=300)


def test_layer_contract_holds():
    done = _lint_imports(PACKAGE.parent)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 kept, 0 broken" in done.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "fer_sklearn",
                    ignore=shutil.ignore_patterns("__pycache__", "weights", "models"))
    rows = tmp_path / "fer_sklearn" / "faces" / "_annotate.py"
    rows.write_text(rows.read_text() + "\nfrom ..pretrained import load_pretrained  # noqa\n")
    done = _lint_imports(tmp_path)
    assert done.returncode != 0
    assert "fer_sklearn.faces is not allowed to import fer_sklearn.pretrained" in done.stdout


def test_no_private_name_is_imported_across_subpackages():
    found = []
    for relative, package, tree in _modules():
        own = package[0] if package else relative.stem
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            target = _target(node, package)
            parts = target.split(".")
            if parts[0] != "fer_sklearn" or target in SHARED or parts[1] == own:
                continue
            private = [p for p in parts[2:] if p.startswith("_")]
            private += [a.name for a in node.names if a.name.startswith("_")]
            if private:
                found.append(f"{relative}:{node.lineno} imports {private} from {target}")
    assert not found, "import the subpackage's public names instead:\n" + "\n".join(found)


def test_imports_are_at_the_top_of_files():
    found = []
    for relative, package, tree in _modules():
        if package and package[0] in LAZY_PACKAGES:
            continue
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [_target(node, package)]
                else:
                    continue
                for name in names:
                    if name.startswith(LAZY) or (relative.as_posix(), name) in KNOWN:
                        continue
                    found.append(f"{relative}:{node.lineno} imports {name} inside "
                                 f"{function.name}()")
    assert not found, ("imports belong at the top of the file (inside a function only for an "
                       "optional extra):\n" + "\n".join(found))


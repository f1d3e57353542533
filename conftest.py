"""pytest's settings for the whole checkout: the doctests of ``src`` skip the optional extras
that are not installed (``fer_sklearn.serve`` needs the ``serve`` extra)."""

import importlib.util

collect_ignore_glob = []
if not all(importlib.util.find_spec(name) for name in ("fastapi", "uvicorn", "python_multipart")):
    collect_ignore_glob.append("src/fer_sklearn/serve/*")

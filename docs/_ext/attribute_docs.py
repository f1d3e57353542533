"""Docstrings of the package's constants, read where they are defined.

``fer_sklearn.EMOTIONS`` is defined in ``fer_sklearn.utils._labels`` with a docstring
below the assignment; autodoc looks for it in the module it documents the name in
(``fer_sklearn``), finds nothing and falls back to ``tuple.__doc__``. This handler looks
in every loaded module of the package for the one that defines the same object with a
docstring, and uses it.
"""

import sys

from sphinx.pycode import ModuleAnalyzer, PycodeError


def _attribute_doc(name, obj):
    attribute = name.rsplit(".", 1)[-1]
    for modname, module in sorted(sys.modules.items()):
        if not modname.startswith("fer_sklearn") or getattr(module, attribute, None) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except PycodeError:
            continue
        if ("", attribute) in docs:
            return list(docs[("", attribute)])
    return None


def use_attribute_doc(app, what, name, obj, options, lines):
    if what not in ("data", "attribute") or not name.startswith("fer_sklearn."):
        return
    found = _attribute_doc(name, obj)
    if found is not None:
        lines[:] = found


def setup(app):
    app.connect("autodoc-process-docstring", use_attribute_doc)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

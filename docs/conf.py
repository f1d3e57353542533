"""Sphinx configuration of the fer-sklearn documentation.

Built by ``make docs`` (``python -m sphinx -W --keep-going -b html docs docs/_build/html``)
without network access: the links to scikit-learn come from the inventory kept in
``docs/_inventories/`` and those to skorch, torch, NumPy and matplotlib from the plain
links in ``docs/_ext/external_links.py``; nothing is downloaded at build time.
"""

import os
import sys
from pathlib import Path

import fer_sklearn

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

# the gallery's examples train small networks: one torch thread each is as fast on 2 cores
# and leaves the other for the rest of the build; matplotlib never opens a window
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

project = "fer-sklearn"
author = "the fer-sklearn developers"
copyright = "the fer-sklearn developers, BSD-3-Clause"  # noqa: A001
release = version = fer_sklearn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "sphinxarg.ext",
    "external_links",
    "attribute_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_templates", "_inventories", "_ext", "**/GALLERY_HEADER.rst",
                    "auto_examples/**/*.ipynb", "auto_examples/**/*.py",
                    "auto_examples/**/*.zip", "auto_examples/**/*.codeobj.json"]
templates_path = ["_templates"]
# "--param" stays two hyphens (the command line's options), not an en dash
smartquotes = False
toc_object_entries_show_parents = "hide"  # "fit()" in a page's table of contents
# every reference must resolve (to this project, scikit-learn's inventory or a plain link)
nitpicky = True
suppress_warnings = []

# -- API reference ----------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
autodoc_preserve_defaults = True  # `module=EmotionCNN`, not `<class ...>`
add_module_names = False
numpydoc_show_class_members = False  # the class template lists the members itself
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"  # only the aliases below become links
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray",
    "DataFrame": "pandas.DataFrame",
    "Bunch": "sklearn.utils.Bunch",
    "Pipeline": "sklearn.pipeline.Pipeline",
    "RandomState": "numpy.random.RandomState",
    "Figure": "matplotlib.figure.Figure",
    "Axes": "matplotlib.axes.Axes",
    "Tensor": "torch.Tensor",
    "Module": "torch.nn.Module",
    "Path": "pathlib.Path",
    "matplotlib.figure.Figure": "matplotlib.figure.Figure",
    "torch.nn.Module": "torch.nn.Module",
    "torch.device": "torch.device",
    "torch.optim.Adam": "torch.optim.Adam",
    "torch.nn.CrossEntropyLoss": "torch.nn.CrossEntropyLoss",
    "skorch.History": "skorch.History",
    "pathlib.Path": "pathlib.Path",
    "PIL.Image.Image": "PIL.Image.Image",
    "EmotionClassifier": "fer_sklearn.EmotionClassifier",
    "EmotionCNN": "fer_sklearn.EmotionCNN",
    "EnsembleCNN": "fer_sklearn.EnsembleCNN",
    "EmotionPipeline": "fer_sklearn.EmotionPipeline",
    "EmotionRecognizer": "fer_sklearn.EmotionRecognizer",
    "EvaluationReport": "fer_sklearn.evaluation.EvaluationReport",
    "FaceCropper": "fer_sklearn.FaceCropper",
    "ImageAugmenter": "fer_sklearn.ImageAugmenter",
}
# numpydoc's validation of every documented docstring, as scikit-learn runs it (a warning,
# so an error under -W; tests/test_docs.py runs the same checks without Sphinx). All checks
# but: See Also, Examples and an extended summary are not required of every name (SA01,
# EX01, ES01); ``self`` alone names what fit returns (RT02); and "every parameter and the
# return value in a section" (PR01, RT01), which tests/test_docs.py asks of every public
# name but a few it lists with the reason (scikit-learn's Pipeline parameters, skorch's
# callback hooks).
numpydoc_validation_checks = {"all", "SA01", "EX01", "ES01", "RT02", "PR01", "RT01"}
# constants (EMOTIONS, FORMAT, ...) are described by a ``#:`` comment, not a docstring
numpydoc_validation_exclude = {r"\.[A-Z][A-Z0-9_]*$"}
# the classifiers document skorch's parameters, which their pages' signatures leave in
# ``**kwargs`` (``_own_signatures`` below); tests/test_docs.py checks them against the full one
numpydoc_validation_overrides = {"PR02": [r"torch_load_kwargs"]}

# -- Links to other projects, offline ----------------------------------------------------
# scikit-learn: the inventory of its 1.2 documentation (Debian's python-sklearn-doc), whose
# pages keep the same addresses on the stable site. The others: docs/_ext/external_links.py.
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/",
                str(DOCS / "_inventories" / "sklearn-objects.inv")),
}
intersphinx_timeout = 1

# -- Markdown pages -------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- The gallery -------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "subsection_order": ["../examples/basics", "../examples/data", "../examples/photos",
                         "../examples/training", "../examples/evaluation"],
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("fer_sklearn",),
    "reference_url": {"fer_sklearn": None},
    "backreferences_dir": "api/generated/backreferences",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "abort_on_example_error": True,
    "min_reported_time": 5,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "capture_repr": (),
    "inspect_global_variables": False,
    # two examples at a time (each on one torch thread): the gallery takes half the time
    "parallel": 2,
}

# -- HTML --------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"fer-sklearn {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "show_prev_next": True,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_sidebars = {"index": [], "faq": []}
html_show_sourcelink = False
html_last_updated_fmt = None
html_copy_source = False


def _own_signatures(app):
    """Document the estimators' ``__init__`` as written (skorch's parameters in ``**kwargs``).

    Their ``__signature__`` also names skorch's parameters, for scikit-learn's repr;
    ``autodoc_preserve_defaults`` reads the defaults from the source, which has fewer.
    """
    import fer_sklearn.training  # noqa: F401 - defines the subclasses to document
    from fer_sklearn import EmotionClassifier

    classes = [EmotionClassifier]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        init = vars(cls).get("__init__")
        if getattr(init, "with_skorch_defaults", False) and "__signature__" in vars(init):
            del init.__signature__


def setup(app):
    app.connect("builder-inited", _own_signatures)

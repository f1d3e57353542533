"""Resolve the references that Sphinx's own domains and scikit-learn's inventory leave open.

Two rules, in a ``missing-reference`` handler:

* A name of this package written where its module does not define it (``:func:`detect_faces```
  in :mod:`fer_sklearn.faces`, whose page is ``fer_sklearn.detect_faces``) links to the one
  documented object whose dotted name ends the same way.
* A name of skorch, torch, NumPy, pandas, matplotlib, joblib or the standard library gets a
  plain link to that project's page: the build downloads no inventory (it runs offline), and
  only the names this documentation uses are listed, each with its page.

A name that neither rule resolves is left to Sphinx, which warns (``nitpicky``), and the
build fails under ``-W``.
"""

from docutils import nodes
from sphinx.util.nodes import make_refnode

SKORCH = "https://skorch.readthedocs.io/en/stable/"
TORCH = "https://docs.pytorch.org/docs/stable/"
NUMPY = "https://numpy.org/doc/stable/reference/"
MPL = "https://matplotlib.org/stable/api/"
PYTHON = "https://docs.python.org/3/library/"

PLAIN_LINKS = {
    "skorch.NeuralNet": SKORCH + "net.html#skorch.net.NeuralNet",
    "skorch.NeuralNet.forward_iter": SKORCH + "net.html#skorch.net.NeuralNet.forward_iter",
    "skorch.NeuralNetClassifier": SKORCH + "classifier.html#skorch.classifier.NeuralNetClassifier",
    "skorch.History": SKORCH + "history.html#skorch.history.History",
    "skorch.callbacks": SKORCH + "callbacks.html",
    "skorch.callbacks.EarlyStopping": SKORCH + "callbacks.html#skorch.callbacks.EarlyStopping",
    "skorch.callbacks.LRScheduler": SKORCH + "callbacks.html#skorch.callbacks.LRScheduler",
    "skorch.callbacks.Checkpoint": SKORCH + "callbacks.html#skorch.callbacks.Checkpoint",
    "skorch.callbacks.Callback": SKORCH + "callbacks.html#skorch.callbacks.Callback",
    "skorch.dataset.ValidSplit": SKORCH + "dataset.html#skorch.dataset.ValidSplit",
    "skorch.helper.predefined_split": SKORCH + "helper.html#skorch.helper.predefined_split",
    "torch.Tensor": TORCH + "tensors.html",
    "torch.device": TORCH + "tensor_attributes.html#torch.device",
    "torch.nn.Module": TORCH + "generated/torch.nn.Module.html",
    "torch.nn.CrossEntropyLoss": TORCH + "generated/torch.nn.CrossEntropyLoss.html",
    "torch.optim.Adam": TORCH + "generated/torch.optim.Adam.html",
    "torch.optim.AdamW": TORCH + "generated/torch.optim.AdamW.html",
    "torch.set_num_threads": TORCH + "generated/torch.set_num_threads.html",
    "numpy.ndarray": NUMPY + "generated/numpy.ndarray.html",
    "numpy.random.RandomState": NUMPY + "random/legacy.html#numpy.random.RandomState",
    "numpy.uint8": NUMPY + "arrays.scalars.html#numpy.uint8",
    "pandas.DataFrame": "https://pandas.pydata.org/docs/reference/api/pandas.DataFrame.html",
    "matplotlib.figure.Figure": MPL + "_as_gen/matplotlib.figure.Figure.html",
    "matplotlib.axes.Axes": MPL + "axes_api.html#matplotlib.axes.Axes",
    "joblib.dump": "https://joblib.readthedocs.io/en/stable/generated/joblib.dump.html",
    "joblib.load": "https://joblib.readthedocs.io/en/stable/generated/joblib.load.html",
    "joblib": "https://joblib.readthedocs.io/en/stable/",
    "pathlib.Path": PYTHON + "pathlib.html#pathlib.Path",
    "PIL.Image.Image": "https://pillow.readthedocs.io/en/stable/reference/Image.html#PIL.Image.Image",
    "argparse.ArgumentParser": PYTHON + "argparse.html#argparse.ArgumentParser",
    "distributed.Client": "https://distributed.dask.org/en/stable/api.html#distributed.Client",
    "distributed.LocalCluster": ("https://distributed.dask.org/en/stable/api.html"
                                 "#distributed.LocalCluster"),
}
# numpydoc links the types of its parameter lists to Python's and NumPy's inventories
# (``python:int``, ``numpy:array_like``), which this offline build does not have
INVENTORY_LINKS = {
    "python:None": PYTHON + "constants.html#None",
    "python:True": PYTHON + "constants.html#True",
    "python:False": PYTHON + "constants.html#False",
    "python:bltin-boolean-values": PYTHON + "stdtypes.html#boolean-type-bool",
    "python:callable": PYTHON + "functions.html#callable",
    "python:dict": PYTHON + "stdtypes.html#dict",
    "python:float": PYTHON + "functions.html#float",
    "python:int": PYTHON + "functions.html#int",
    "python:list": PYTHON + "stdtypes.html#list",
    "python:str": PYTHON + "stdtypes.html#str",
    "python:tuple": PYTHON + "stdtypes.html#tuple",
    "python:generator": "https://docs.python.org/3/glossary.html#term-generator",
    "python:iterable": "https://docs.python.org/3/glossary.html#term-iterable",
    "python:sequence": "https://docs.python.org/3/glossary.html#term-sequence",
    "numpy:array_like": "https://numpy.org/doc/stable/glossary.html#term-array_like",
}
EXTERNAL_PACKAGES = {name.split(".")[0] for name in PLAIN_LINKS} | {"sklearn", "pd", "np"}


def _own_object(env, target):
    """The documented object of this package whose name ends like ``target``, if just one.

    ``fer_sklearn.faces.detect_faces`` is tried as ``faces.detect_faces``, then as
    ``detect_faces``; at each length a name importable from the package itself wins over
    the same object in a submodule.
    """
    parts = target.lstrip(".~").split(".")
    if parts[0] != "fer_sklearn" and parts[0] in EXTERNAL_PACKAGES:
        return None
    if parts[0] == "fer_sklearn":
        parts = parts[1:]
    objects = {name: entry for name, entry in env.get_domain("py").objects.items()
               if name.startswith("fer_sklearn.") and not entry.aliased}
    for start in range(len(parts)):
        suffix = "." + ".".join(parts[start:])
        matches = [(name, entry) for name, entry in objects.items() if name.endswith(suffix)]
        top = [(name, entry) for name, entry in matches
               if name.count(".") == len(parts) - start]
        matches = top or matches
        if len(matches) == 1:
            return matches[0]
        if matches:
            return None
    return None


def _link(url, target, contnode):
    if ":" in target and contnode.astext() == target:  # numpydoc's "python:int": show "int"
        contnode = contnode.__class__("", target.split(":", 1)[1], classes=contnode["classes"])
    ref = nodes.reference("", "", internal=False, refuri=url, reftitle=target)
    ref.append(contnode)
    return ref


def resolve(app, env, node, contnode):
    target = node.get("reftarget", "")
    if target in INVENTORY_LINKS:
        return _link(INVENTORY_LINKS[target], target, contnode)
    if node.get("refdomain") != "py":
        return None
    if target in PLAIN_LINKS:
        return _link(PLAIN_LINKS[target], target, contnode)
    found = _own_object(env, target)
    if found is None:
        return None
    name, entry = found
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, name)


# skorch's hooks that EmotionClassifier overrides: skorch calls them, users do not
SKORCH_HOOKS = {"check_data", "forward_iter", "initialize", "initialize_criterion",
                "initialize_module", "load_params", "train_step_single"}


def skip_foreign_member(app, what, name, obj, skip, options):
    """Leave out the methods that a class of this package takes over from skorch or
    scikit-learn (``set_fit_request``...), which their pages document, and the skorch hooks
    that it overrides."""
    if what != "class":
        return None
    if name in SKORCH_HOOKS or not getattr(obj, "__module__",
                                           "fer_sklearn").startswith("fer_sklearn"):
        return True
    return None


def setup(app):
    app.connect("missing-reference", resolve)
    app.connect("autodoc-skip-member", skip_foreign_member)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

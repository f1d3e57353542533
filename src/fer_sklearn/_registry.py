"""What higher layers offer lower ones, so that no layer imports one above it.

A model file (:mod:`fer_sklearn.persistence`) may name the library's estimators,
and a photo recognizer (:mod:`fer_sklearn.faces`) takes a shipped model by name
(``EmotionRecognizer(model="fast")``) or a file of ``save_model``. The modules that define those register
them here when they are imported; the package's ``__init__`` names the modules
that register (:func:`provided_by`), which are imported at the first lookup.
Pure Python, importing nothing: the bottom of the layers.
"""

import importlib

_CLASSES = {}
_SHIPPED = {}
_READERS = {}
_PROVIDERS = []


def provided_by(*modules):
    """Name the modules (``"fer_sklearn.faces"``...) that register, imported at the first lookup."""
    _PROVIDERS.extend(m for m in modules if m not in _PROVIDERS)


def _import_providers():
    for module in _PROVIDERS:
        importlib.import_module(module)  # a no-op once imported (or while it is importing)


def register_class(name, cls):
    """Let model files name ``cls`` as ``name`` (e.g. ``"fer_sklearn.FaceCropper"``)."""
    _CLASSES[name] = cls
    return cls


def registered_classes():
    """``{name: class}`` of every class registered by :func:`register_class`."""
    _import_providers()
    return dict(_CLASSES)


def register_model_reader(suffix, read):
    """Let ``read(path)`` open the model files whose name ends in ``suffix`` (``".safetensors"``)."""
    _READERS[suffix.lower()] = read


def model_reader(suffix):
    """The function registered to read model files ending in ``suffix``, or None."""
    _import_providers()
    return _READERS.get(suffix.lower())


def register_shipped_models(available, load):
    """Offer the shipped models: ``available()`` lists their names, ``load(name, **kw)`` loads one."""
    _SHIPPED.update(available=available, load=load)


def shipped_model_names():
    """The names of the models that ship with the package (empty if none is registered)."""
    _import_providers()
    return list(_SHIPPED["available"]()) if _SHIPPED else []


def load_shipped_model(name="default", **kwargs):
    """The shipped model ``name``, loaded by the function that registered it."""
    _import_providers()
    if not _SHIPPED:
        raise ValueError(f"no shipped model named {name!r}: the pretrained models are not "
                         "installed")
    return _SHIPPED["load"](name, **kwargs)

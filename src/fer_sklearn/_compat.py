"""Module paths of fer-sklearn 0.1.0, kept so that joblib files saved by it still load.

Pickles name each class by the module that defined it; 0.1.0 had a flat layout
(``fer_sklearn._classifier.EmotionClassifier``, ...). Each old path is an alias
that imports the module holding the class now at its first use, so that
``import fer_sklearn`` stays light.
"""

import importlib
import sys
import types

MOVED = {
    "_augment": "neural_net._augment",
    "_classifier": "neural_net._classifier",
    "_cnn": "neural_net._cnn",
    "_schedules": "neural_net._schedules",
    "_pipeline": "pipeline",
}


class _Alias(types.ModuleType):
    """An old module path: its attributes are those of the module that replaced it."""

    def __init__(self, name, target):
        super().__init__(name)
        self.target = target

    def __getattr__(self, attribute):
        if attribute.startswith("__"):  # introspection (inspect, copy...) imports nothing
            raise AttributeError(attribute)
        return getattr(importlib.import_module(self.target), attribute)


def install_aliases():
    """Make ``fer_sklearn.<old>`` stand for the module that replaced it."""
    for old, new in MOVED.items():
        sys.modules.setdefault(f"fer_sklearn.{old}", _Alias(f"fer_sklearn.{old}", f"fer_sklearn.{new}"))

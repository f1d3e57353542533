"""Module paths of fer-sklearn 0.1.0, kept so that joblib files saved by it still load.

Pickles name each class by the module that defined it; 0.1.0 had a flat layout
(``fer_sklearn._classifier.EmotionClassifier``, ...). Each old path is an alias of
the module that holds the class now.
"""

import importlib
import sys

MOVED = {
    "_augment": "neural_net._augment",
    "_classifier": "neural_net._classifier",
    "_cnn": "neural_net._cnn",
    "_schedules": "neural_net._schedules",
    "_pipeline": "pipeline",
}


def install_aliases():
    """Make ``fer_sklearn.<old>`` import the module that replaced it."""
    for old, new in MOVED.items():
        sys.modules.setdefault(f"fer_sklearn.{old}", importlib.import_module(f"fer_sklearn.{new}"))

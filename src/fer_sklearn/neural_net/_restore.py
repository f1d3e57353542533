"""Rebuilding a fitted classifier: from saved weights, and from pickles of older versions."""

import numpy as np

from ._device import resolve_device


class RestoreMixin:
    """Mixin for :class:`EmotionClassifier`: ready-to-predict nets without ``fit``, old pickles."""

    def initialize_fitted(self, image_shape):
        """Make a classifier whose ``module`` holds trained weights ready to predict, without ``fit``.

        Used to rebuild a saved network: the classes are the ``classes``
        parameter, the images ``image_shape`` = ``(height, width)``.

        Returns
        -------
        self : EmotionClassifier
        """
        if self.classes is None:
            raise ValueError("initialize_fitted needs the classes parameter")
        self.classes_inferred_ = np.asarray(self.classes)
        self.image_shape_ = tuple(image_shape)
        self.n_features_in_ = int(np.prod(image_shape))
        self.class_weight_ = None
        self.augmenter_ = None
        self.initialize()
        self.module_.eval()
        return self

    def __setstate__(self, state):
        requested = state.get("device")
        if requested == "auto":  # skorch maps the weights to the device it finds
            state["device"] = resolve_device("auto")
        super().__setstate__(state)
        if requested == "auto":
            self.device = "auto"

"""What EmotionClassifier's fit does around skorch's loop: images, labels, classes, split."""

import inspect

import numpy as np
import torch
from sklearn.utils import check_random_state
from skorch.dataset import unpack_data
from skorch.utils import to_device

from ..utils import check_images, check_labels, labels_like
from ._augment import ImageAugmenter
from ._device import resolve_device
from ._splits import validation_split
from ._targets import class_weights, encode_labels, fitted_classes, labels_for_fit


class FitDataMixin:
    """Checked images, class codes, the validation split and augmented batches for skorch.

    Sets ``image_shape_``, ``n_features_in_``, ``classes_inferred_``,
    ``class_weight_`` and ``augmenter_`` from the parameters ``image_shape``,
    ``classes``, ``class_weight``, ``augment`` and ``random_state``, and builds
    the network and the loss for the classes found.
    """

    def initialize_module(self):
        """Build ``module_``, filling in ``n_classes`` from the fitted classes."""
        kwargs = self.get_params_for("module")
        if (
            inspect.isclass(self.module)
            and "n_classes" not in kwargs
            and "n_classes" in inspect.signature(self.module).parameters
            and hasattr(self, "classes_inferred_")
        ):
            kwargs["n_classes"] = len(self.classes_)
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def initialize_criterion(self):
        """Build ``criterion_``, weighting the classes by ``class_weight_``."""
        kwargs = self.get_params_for("criterion")
        weight = getattr(self, "class_weight_", None)
        if weight is not None and "weight" not in kwargs:
            kwargs["weight"] = torch.as_tensor(weight, dtype=torch.float32)
        self.criterion_ = self.initialized_instance(self.criterion, kwargs)
        return self

    def _images(self, X, *, reset):
        images = check_images(X, allow_channels=False, image_shape=self.image_shape)
        if reset:
            self.image_shape_ = images.shape[1:]
            self.n_features_in_ = images.shape[1] * images.shape[2]
        elif images.shape[1:] != self.image_shape_:
            raise ValueError(
                f"X has {images.shape[1] * images.shape[2]} features, but {type(self).__name__} "
                f"is expecting {self.n_features_in_} features as input: X has images of size "
                f"{images.shape[1]}x{images.shape[2]}, but {type(self).__name__} was fitted on "
                f"{self.image_shape_[0]}x{self.image_shape_[1]} images"
            )
        return images[:, None]

    def _set_classes(self, y):
        self.classes_inferred_ = fitted_classes(y, self.classes)
        self.class_weight_ = class_weights(self.class_weight, self.classes_inferred_, y)

    def _encode(self, y, what="y"):
        return encode_labels(y, self.classes_, what)

    def check_data(self, X, y):
        """No-op: ``fit`` validates the data and sets the classes before skorch sees them."""

    def _seed(self):
        if self.random_state is not None:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            torch.manual_seed(seed)
            return seed
        return None

    def _prepare(self, X, y, X_valid, y_valid, *, reset):
        """Checked images ``(n, 1, h, w)``, class codes, and the ``(images, codes)`` of ``X_valid``."""
        self._check_params()
        images = self._images(X, reset=reset)
        y = labels_for_fit(check_labels(y, len(images)), self.classes if reset else self.classes_)
        if reset:
            self._set_classes(y)
        codes = self._encode(y)
        if (X_valid is None) != (y_valid is None):
            raise ValueError("pass both X_valid and y_valid, or neither")
        valid = None
        if X_valid is not None:
            valid_images = check_images(X_valid, allow_channels=False, image_shape=self.image_shape,
                                        what="X_valid")
            if valid_images.shape[1:] != images.shape[2:]:
                raise ValueError(
                    f"X_valid has images of size {valid_images.shape[1:]}, X has {images.shape[2:]}"
                )
            y_valid = labels_like(check_labels(y_valid, len(valid_images)), self.classes_)
            valid = (valid_images[:, None], self._encode(y_valid, "y_valid"))
        self.augmenter_ = ImageAugmenter() if self.augment is True else (self.augment or None)
        return images, codes, valid

    def _train(self, X, y, X_valid, y_valid, *, fresh, **fit_params):
        """Validate, (re)initialise when ``fresh``, then run skorch's training loop.

        For the duration of the loop ``train_split`` is the split of this fit
        (see ``_validation_split``); the user's value is restored afterwards.
        """
        X, codes, valid = self._prepare(X, y, X_valid, y_valid, reset=fresh)
        if fresh:
            self._split_seed = self._seed()
        requested = self.train_split
        self.train_split = validation_split(codes, valid, self.train_split,
                                            self.validation_fraction, self._split_seed)
        try:
            if fresh:
                self.initialize()
            super().partial_fit(X, codes, **fit_params)
        finally:
            self.train_split = requested
        return self

    def train_step_single(self, batch, **fit_params):
        """One training step, with the batch augmented on the device first."""
        if self.augmenter_ is not None:
            Xi, yi = unpack_data(batch)
            batch = (self.augmenter_(to_device(Xi, resolve_device(self.device))), yi)
        return super().train_step_single(batch, **fit_params)

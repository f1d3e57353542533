"""EmotionClassifier: the skorch CNN classifier with scikit-learn conventions."""

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNetClassifier
from torch import nn
from torch.utils.data import Dataset as TorchDataset

from ..utils import labels_like
from ._augment import ImageAugmenter
from ._cnn import EmotionCNN
from ._device import on_resolved_device
from ._fit_data import FitDataMixin
from ._logging import TerminalPrintLog
from ._restore import RestoreMixin
from ._schedules import training_callbacks
from ._speed import PRECISIONS, DeviceSpeedMixin
from ._signature import with_skorch_defaults
from ._tta import test_time_views


@with_skorch_defaults
class EmotionClassifier(FitDataMixin, DeviceSpeedMixin, RestoreMixin, NeuralNetClassifier):
    """A convolutional emotion classifier for grayscale face images.

    A :class:`skorch.NeuralNetClassifier` with working defaults: an
    :class:`EmotionCNN`, Adam, cross-entropy, a stratified validation split,
    early stopping, learning-rate decay and batch augmentation on the training
    device. It takes ``(n, h, w)`` images (or flat rows of square images) of any
    numeric dtype; use it inside :func:`make_emotion_pipeline` to get grayscale
    conversion, resizing and normalisation first.

    Parameters
    ----------
    module : type or torch.nn.Module, default=EmotionCNN
        The network. Its parameters are reached as ``module__<name>``
        (e.g. ``module__dropout``); ``n_classes`` is filled in from the data.
    criterion : type, default=torch.nn.CrossEntropyLoss
        The loss; ``criterion__label_smoothing=0.1`` passes options to it.
    optimizer : type, default=torch.optim.Adam
        The optimizer; ``optimizer__weight_decay`` passes options to it.
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=30
        Most epochs to train.
    batch_size : int, default=64
        Images per batch.
    validation_fraction : float or None, default=0.1
        Share of the training data held out, stratified, to early-stop and
        decay the learning rate on. ``None`` or 0 trains on everything. Ignored
        when ``fit`` gets ``X_valid``/``y_valid`` or ``train_split`` is set.
    early_stopping : bool, default=True
        Stop when the validation loss (the training loss without validation)
        has not improved for ``patience`` epochs, and restore the best weights.
    patience : int, default=6
        Epochs without improvement before stopping.
    lr_schedule : {"plateau", "cosine"} or None, default="plateau"
        ``"plateau"`` multiplies the learning rate by ``lr_factor`` after
        ``lr_patience`` epochs without improvement; ``"cosine"`` warms up for
        ``warmup_epochs`` and then decays along a cosine to ``max_epochs``.
    lr_patience : int, default=2
        Epochs without improvement before the plateau schedule decays.
    lr_factor : float, default=0.5
        Decay factor of the plateau schedule.
    warmup_epochs : int, default=0
        Linear warm-up epochs of the cosine schedule.
    augment : bool or ImageAugmenter, default=True
        Training-only augmentation (random shift, rotation, zoom, horizontal
        flip) applied to each batch on the training device; ``False`` turns it
        off, an :class:`ImageAugmenter` configures it.
    class_weight : "balanced", dict or None, default=None
        Weights of the classes in the loss; ``"balanced"`` counters FER2013's
        rare disgust class.
    random_state : int, RandomState or None, default=None
        Seeds the weight initialisation, the validation split, shuffling,
        dropout and augmentation, making CPU training reproducible.
    device : str, default="auto"
        ``"auto"`` trains on CUDA where it is available, else on the CPU.
    precision : {"auto", "bf16", "32", "float32", "int8"}, default="auto"
        ``"bf16"``: bfloat16 autocast (outputs stay float32); ``"32"`` (or
        ``"float32"``): float32, bit-stable; ``"int8"``: int8 predictions on the
        CPU (ranges from :func:`~fer_sklearn.deploy.quantize`; shipped models
        carry them). ``"auto"``: bf16 on CUDA; on a CPU bf16 with AMX, else
        float32, and for predictions int8 with VNNI (given ranges), chosen once
        per process (``inference_precision()``, :func:`~fer_sklearn.show_versions`;
        the environment variable ``FER_SKLEARN_PRECISION`` overrides the CPU's
        choice). Checked wherever it is used, ``predict`` included.
    tta : bool, default=False
        Test-time augmentation: average the predictions over the image and its
        mirror image, each also shifted by ``tta_shift`` pixels in the four
        directions (10 views). Slower, usually slightly more accurate.
    tta_shift : int, default=2
        Shift in pixels of the shifted test-time views (0: only the mirror).
    image_shape : tuple of int or None, default=None
        ``(height, width)`` of flat rows of pixels, one of them may be -1
        (inferred); None reads flat rows as square images. Arrays of images
        ``(n, h, w)`` carry their own shape.
    classes : array-like or None, default=None
        All class labels, when ``y`` may lack some; inferred from ``y`` if None.
    verbose : int, default=1
        1 prints skorch's per-epoch table as each epoch ends (skorch's
        default: a fit can take minutes); 0 is quiet, e.g. for the many fits
        of a grid search (``clf__verbose=0``).
    train_split : callable or None, default=None
        A skorch split (e.g. ``skorch.dataset.ValidSplit``) that replaces
        ``validation_fraction``.
    **kwargs
        Other :class:`skorch.NeuralNet` parameters (``callbacks``,
        ``warm_start``, ``iterator_train__num_workers``, ...).

    Attributes
    ----------
    classes_ : ndarray
        The class labels, as given in ``y`` (strings or integers).
    n_features_in_ : int
        Pixels per image seen in ``fit``.
    image_shape_ : tuple of int
        ``(height, width)`` of the images seen in ``fit``.
    class_weight_ : ndarray or None
        The loss weight of each class.
    history_ : skorch.History
        Per-epoch losses, accuracies and learning rates.
    module_ : torch.nn.Module
        The trained network.

    See Also
    --------
    make_emotion_pipeline : This classifier behind grayscale, resize and normalize steps.

    Examples
    --------
    >>> from fer_sklearn import EmotionClassifier, make_faces
    >>> X, y = make_faces(140, size=24, random_state=0)
    >>> clf = EmotionClassifier(max_epochs=2, module__width=8, random_state=0,
    ...                         verbose=0).fit(X / 255, y)
    >>> clf.predict(X[:3] / 255).shape
    (3,)
    """

    _parameter_constraints = {
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [None, Interval(Real, 0, 1, closed="left")],
        "early_stopping": ["boolean"],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "lr_schedule": [StrOptions({"plateau", "cosine"}), None],
        "lr_patience": [Interval(Integral, 1, None, closed="left")],
        "lr_factor": [Interval(Real, 0, 1, closed="neither")],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "augment": ["boolean", ImageAugmenter, None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "random_state": ["random_state"],
        "precision": [StrOptions(set(PRECISIONS))],
        "tta": ["boolean"],
        "tta_shift": [Interval(Integral, 0, None, closed="left")],
        "image_shape": [None, tuple, list],
    }

    def __init__(
        self,
        module=EmotionCNN,
        *,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=30,
        batch_size=64,
        validation_fraction=0.1,
        early_stopping=True,
        patience=6,
        lr_schedule="plateau",
        lr_patience=2,
        lr_factor=0.5,
        warmup_epochs=0,
        augment=True,
        class_weight=None,
        random_state=None,
        device="auto",
        precision="auto",
        tta=False,
        tta_shift=2,
        image_shape=None,
        classes=None,
        verbose=1,
        train_split=None,
        **kwargs,
    ):
        super().__init__(
            module, criterion=criterion, optimizer=optimizer, lr=lr, max_epochs=max_epochs,
            batch_size=batch_size, train_split=train_split, classes=classes, verbose=verbose,
            device=device, **kwargs,
        )
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.lr_patience = lr_patience
        self.lr_factor = lr_factor
        self.warmup_epochs = warmup_epochs
        self.augment = augment
        self.class_weight = class_weight
        self.random_state = random_state
        self.precision = precision
        self.tta = tta
        self.tta_shift = tta_shift
        self.image_shape = image_shape

    # ------------------------------------------------------------------ set-up
    def _get_param_names(self):
        # skorch takes every public attribute for a parameter; keep private state out
        return [name for name in super()._get_param_names() if not name.startswith("_")]

    @property
    def _default_callbacks(self):
        defaults = [(name, TerminalPrintLog() if name == "print_log" else cb)
                    for name, cb in super()._default_callbacks if name != "valid_acc"]
        try:
            self._check_params()
        except (TypeError, ValueError):
            return defaults  # skorch builds these in set_params too; fit reports bad values
        monitor = "valid_loss" if self._has_validation() else "train_loss"
        # skorch's PrintLog goes last whatever the order
        return defaults + training_callbacks(self, monitor)

    def _has_validation(self):
        return bool(self.train_split) or bool(self.validation_fraction)

    def _check_params(self):
        params = {name: getattr(self, name) for name in self._parameter_constraints}
        validate_parameter_constraints(self._parameter_constraints, params, type(self).__name__)

    @on_resolved_device
    def initialize(self):
        """Build the module, criterion and optimizer on the resolved device, as skorch does.

        Returns
        -------
        self : EmotionClassifier
            The initialized classifier.
        """
        return super().initialize()

    @on_resolved_device
    def load_params(self, *args, **kwargs):
        """Load what ``save_params`` wrote onto the resolved device, as skorch does.

        Parameters
        ----------
        *args : tuple
            As skorch's ``NeuralNet.load_params`` (``f_params``, ...).
        **kwargs : dict
            As skorch's ``NeuralNet.load_params`` (``f_params``, ``f_optimizer``,
            ``f_history``, ``checkpoint``, ...).
        """
        super().load_params(*args, **kwargs)

    # ------------------------------------------------------------------ fitting
    @on_resolved_device
    def fit(self, X, y, X_valid=None, y_valid=None, **fit_params):
        """Train the network on images ``X`` with labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width) or (n_samples, height*width)
            Grayscale images.
        y : array-like of shape (n_samples,)
            Labels: strings (e.g. emotion names) or integers.
        X_valid, y_valid : array-like, default=None
            A fixed validation set (e.g. FER2013's PublicTest) for early stopping
            and learning-rate decay, instead of a random split.
        **fit_params : dict
            Passed to skorch's ``fit``.

        Returns
        -------
        self : EmotionClassifier
            The fitted classifier.
        """
        fresh = not (self.warm_start and self.initialized_)
        return self._train(X, y, X_valid, y_valid, fresh=fresh, **fit_params)

    @on_resolved_device
    def partial_fit(self, X, y, classes=None, X_valid=None, y_valid=None, **fit_params):
        """Continue training for ``max_epochs`` more epochs (initialising on first call).

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width) or (n_samples, height*width)
            Grayscale images, as in :meth:`fit`.
        y : array-like of shape (n_samples,)
            Labels, as in :meth:`fit`.
        classes : array-like, default=None
            Ignored (set the ``classes`` parameter to fix the classes up front).
        X_valid, y_valid : array-like, default=None
            A fixed validation set, as in :meth:`fit`.
        **fit_params : dict
            Passed to skorch's ``partial_fit``.

        Returns
        -------
        self : EmotionClassifier
            The fitted classifier.
        """
        return self._train(X, y, X_valid, y_valid, fresh=not self.initialized_, **fit_params)

    # ------------------------------------------------------------------ prediction
    def __sklearn_is_fitted__(self):
        return bool(getattr(self, "initialized_", False)) and hasattr(self, "n_features_in_")

    @on_resolved_device
    def forward_iter(self, X, training=False, device="cpu"):
        """See :meth:`skorch.NeuralNet.forward_iter`."""
        return list(super().forward_iter(X, training=training, device=device))

    def predict_proba(self, X):
        """Class probabilities, ``(n_samples, n_classes)``, columns in ``classes_`` order."""
        if isinstance(X, TorchDataset):  # skorch's own scoring callbacks
            return super().predict_proba(X)
        check_is_fitted(self)
        images = self._images(X, reset=False)
        views = test_time_views(images, self.tta_shift) if self.tta else [images]
        return self._fast_predictor().predict_proba(views, self.batch_size)

    def score(self, X, y, sample_weight=None):
        """Accuracy on ``X`` against ``y``: FER2013 codes, emotion names or aliases, any case.

        ``y`` is read as the kind of labels of ``fit`` (e.g. the codes of
        :func:`~fer_sklearn.load_fer2013` against a model of emotion names).
        """
        return super().score(X, labels_like(y, self.classes_), sample_weight=sample_weight)

    def predict(self, X):
        """The most probable label of each image, of the same kind as ``y`` in ``fit``."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        with_skorch_defaults(cls)  # a subclass's own __init__ too

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

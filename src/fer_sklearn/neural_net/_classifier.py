"""EmotionClassifier: the skorch CNN classifier with scikit-learn conventions.

The whole flow of the estimator reads top to bottom here: the parameters, how ``fit``
checks the data, sets the classes and the validation split and builds the network, the
training step (augmentation, mixup/cutmix, the loss read from the device once an epoch),
and how ``predict_proba`` runs a folded copy of the network in the arithmetic the CPU runs
fastest. The helpers it calls are plain functions in modules named for their concept.
"""

import inspect
import weakref
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNetClassifier
from skorch.dataset import get_len, unpack_data
from skorch.utils import to_device, to_tensor
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.data import Dataset as TorchDataset

from ..utils import (
    Interval,
    StrOptions,
    check_images,
    check_labels,
    check_params,
    cpu_precision,
    labels_like,
)
from ._augment import ImageAugmenter, mix_batch
from ._batches import DeviceBatches, in_memory_arrays
from ._cnn import EmotionCNN
from ._device import on_resolved_device, resolve_device
from ._int8 import Int8Predictor, weights_fingerprint
from ._logging import TerminalPrintLog
from ._predictor import FastPredictor, weights_version
from ._schedules import training_callbacks
from ._signature import with_skorch_defaults
from ._splits import validation_split
from ._targets import class_weights, encode_labels, fitted_classes, labels_for_fit
from ._tta import test_time_views

PRECISIONS = ("auto", "bf16", "32", "float32", "int8")  # "float32" is "32"
# each net's folded copy for prediction, dropped with the net
_PREDICTORS = weakref.WeakKeyDictionary()


@with_skorch_defaults
class EmotionClassifier(NeuralNetClassifier):
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
        ``lr_patience`` epochs without improvement; ``"cosine"`` warms up
        linearly over ``warmup_epochs`` and then decays along a cosine to 1% of
        ``lr`` at ``max_epochs``, the rate set before every batch
        (:class:`~fer_sklearn.training.WarmupCosine`).
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
    mixup : float, default=0.0
        Alpha of the Beta distribution of mixup's mixing weight: each training
        batch is mixed with a shuffled copy of itself; 0 turns it off.
    cutmix : float, default=0.0
        Alpha of cutmix (a box of another face pasted in); 0 turns it off. With
        both on, each batch draws one of the two.
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
    iterator_train, iterator_valid : type, default=torch.utils.data.DataLoader
        The iterators of skorch over the training and validation data; with
        the default ``iterator_train`` and in-memory data, training batches are
        cut on the device instead (:meth:`get_iterator`).
    dataset : type, default=skorch.dataset.Dataset
        The wrapper of the data in skorch.
    callbacks : list of (name, callback) or None, default=None
        More skorch callbacks, run after the defaults this classifier builds
        from its parameters (scores, learning-rate schedule, early stopping).
    predict_nonlinearity : callable, "auto" or None, default="auto"
        The map from logits to probabilities (``"auto"``: softmax).
    warm_start : bool, default=False
        Whether ``fit`` goes on from the current weights instead of anew.
    compile : bool, default=False
        Whether skorch runs the module through ``torch.compile``.
    use_caching : bool or "auto", default="auto"
        Whether skorch caches predictions for its scoring callbacks.
    torch_load_kwargs : dict or None, default=None
        Passed to ``torch.load`` by skorch's ``load_params``.
    **kwargs
        Other :class:`skorch.NeuralNet` parameters, routed by prefix
        (``optimizer__weight_decay``, ``iterator_train__num_workers``, ...).

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
        "mixup": [Interval(Real, 0, None, closed="left")],
        "cutmix": [Interval(Real, 0, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "random_state": ["random_state"],
        "precision": [StrOptions(set(PRECISIONS))],
        "tta": ["boolean"],
        "tta_shift": [Interval(Integral, 0, None, closed="left")],
        "image_shape": [None, tuple, list],
    }
    # the parameters of subclasses that only training uses: to_classifier leaves them out
    _training_only = ()

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
        mixup=0.0,
        cutmix=0.0,
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
        self.mixup = mixup
        self.cutmix = cutmix
        self.class_weight = class_weight
        self.random_state = random_state
        self.precision = precision
        self.tta = tta
        self.tta_shift = tta_shift
        self.image_shape = image_shape

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        with_skorch_defaults(cls)  # a subclass's own __init__ too

    # ------------------------------------------------------------------ parameters
    def _get_param_names(self):
        # skorch takes every public attribute for a parameter; keep private state out
        return [name for name in super()._get_param_names() if not name.startswith("_")]

    def _check_params(self):
        params = {name: getattr(self, name) for name in self._parameter_constraints}
        check_params(self._parameter_constraints, params, type(self).__name__)

    def _precision(self):
        """``precision``, checked as ``fit`` checks it (``set_params`` checks nothing), with
        ``"float32"`` read as ``"32"``."""
        check_params({"precision": self._parameter_constraints["precision"]},
                     {"precision": self.precision}, type(self).__name__)
        return "32" if self.precision == "float32" else self.precision

    def _on_cuda(self):
        return torch.device(resolve_device(self.device)).type == "cuda"

    def _autocast_dtype(self):
        """``torch.bfloat16`` where ``precision`` asks for autocast here, else ``None``.

        ``"auto"`` means bf16 on CUDA (where the card has it) and, on a CPU, where
        the process's choice is bf16 (AMX tiles); int8 is for prediction only.
        """
        precision = self._precision()
        if precision == "bf16":
            return torch.bfloat16
        if precision != "auto":
            return None
        if self._on_cuda():
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
        return torch.bfloat16 if cpu_precision() == "bf16" else None

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

    # ------------------------------------------------------------------ building
    @on_resolved_device
    def initialize(self):
        """Build the module, criterion and optimizer on the resolved device, as skorch does.

        Returns
        -------
        self : EmotionClassifier
            The initialized classifier.
        """
        return super().initialize()

    def initialize_module(self):
        """Build ``module_``, ``n_classes`` from the fitted classes (channels-last on CUDA).

        Returns
        -------
        self : EmotionClassifier
            With its ``module_``.
        """
        kwargs = self.get_params_for("module")
        if (
            inspect.isclass(self.module)
            and "n_classes" not in kwargs
            and "n_classes" in inspect.signature(self.module).parameters
            and hasattr(self, "classes_inferred_")
        ):
            kwargs["n_classes"] = len(self.classes_)
        self.module_ = self.initialized_instance(self.module, kwargs)
        if self._on_cuda():
            self.module_ = self.module_.to(memory_format=torch.channels_last)
        return self

    def initialize_criterion(self):
        """Build ``criterion_``, weighting the classes by ``class_weight_``.

        Returns
        -------
        self : EmotionClassifier
            With its ``criterion_``.
        """
        kwargs = self.get_params_for("criterion")
        weight = getattr(self, "class_weight_", None)
        if weight is not None and "weight" not in kwargs:
            kwargs["weight"] = torch.as_tensor(weight, dtype=torch.float32)
        self.criterion_ = self.initialized_instance(self.criterion, kwargs)
        return self

    def initialize_fitted(self, image_shape):
        """Make a classifier whose ``module`` holds trained weights ready to predict, no ``fit``.

        Used to rebuild a saved network: the classes are the ``classes``
        parameter, the images ``image_shape`` = ``(height, width)``.

        Parameters
        ----------
        image_shape : tuple of int
            ``(height, width)`` of the images the network takes.

        Returns
        -------
        self : EmotionClassifier
            Fitted, in eval mode.
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

    # ------------------------------------------------------------------ the data of a fit
    def _images(self, X, *, reset):
        """Checked images ``(n, 1, h, w)``; ``reset`` records their size, else compares it."""
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

    def _prepare(self, X, y, X_valid, y_valid, *, reset):
        """Checked images ``(n, 1, h, w)``, class codes, and the ``(images, codes)`` of ``X_valid``.

        With ``reset`` the classes, their loss weights and the size of the
        images are those of this data.
        """
        self._check_params()
        images = self._images(X, reset=reset)
        y = labels_for_fit(check_labels(y, len(images)), self.classes if reset else self.classes_)
        if reset:
            self.classes_inferred_ = fitted_classes(y, self.classes)
            self.class_weight_ = class_weights(self.class_weight, self.classes_inferred_, y)
        codes = encode_labels(y, self.classes_)
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
            valid = (valid_images[:, None], encode_labels(y_valid, self.classes_, "y_valid"))
        self.augmenter_ = ImageAugmenter() if self.augment is True else (self.augment or None)
        return images, codes, valid

    def check_data(self, X, y):
        """Do nothing: ``fit`` validates the data and sets the classes before skorch sees them.

        Parameters
        ----------
        X, y : array-like
            The training data skorch passes (unused).
        """

    def _seed(self):
        """Seed torch from ``random_state``; the seed of the validation split, or None."""
        if self.random_state is None:
            return None
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        torch.manual_seed(seed)
        return seed

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

    def _train(self, X, y, X_valid, y_valid, *, fresh, **fit_params):
        """Validate, (re)initialise when ``fresh``, then run skorch's training loop.

        For the duration of the loop ``train_split`` is the split of this fit
        (:func:`~fer_sklearn.neural_net._splits.validation_split`); the user's
        value is restored afterwards.
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

    def get_iterator(self, dataset, training=False):
        """Training batches cut on the device from in-memory data; skorch's iterators otherwise.

        With the default ``iterator_train`` and in-memory arrays, the training
        images move to the device once and each batch is an index slice of them
        (``DeviceBatches``), shuffled every
        epoch unless ``iterator_train__shuffle=False``. Other iterators or
        iterator options fall back to skorch's ``DataLoader``.

        Parameters
        ----------
        dataset : torch.utils.data.Dataset
            The data (or a ``Subset`` of it, after the validation split).
        training : bool, default=False
            Whether the batches are for training.

        Returns
        -------
        batches : iterable of (Tensor, Tensor)
            The epoch's batches of images and targets.
        """
        options = self.get_params_for("iterator_train")
        arrays = in_memory_arrays(dataset) if training else None
        if arrays is None or self.iterator_train is not DataLoader or set(options) - {"shuffle"}:
            return super().get_iterator(dataset, training=training)
        batch_size = len(arrays[1]) if self.batch_size == -1 else self.batch_size
        return DeviceBatches(*arrays, batch_size, resolve_device(self.device),
                             shuffle=options.get("shuffle", True))

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run skorch's epoch, with the batches' losses read from the device once, at its end.

        skorch reads each batch's loss with ``loss.item()``, a wait for the
        device on every step that leaves a GPU idle; the losses stay on the
        device and are read together (one wait an epoch), then recorded in the
        history exactly where skorch records them.

        Parameters
        ----------
        iterator : iterable or None
            The epoch's batches (None: no validation data).
        training : bool
            Whether the epoch trains.
        prefix : {"train", "valid"}
            The prefix of the history's keys.
        step_fn : callable
            One step on a batch (skorch's training or validation step).
        **fit_params : dict
            Passed to ``step_fn``.
        """
        if iterator is None:
            return
        losses = []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            size = get_len(batch[0]) if isinstance(batch, (tuple, list)) else get_len(batch)
            self.history.record_batch(prefix + "_batch_size", size)
            self.notify("on_batch_end", batch=batch, training=training, **step)
        values = torch.stack(losses).float().cpu().tolist() if losses else []
        mine = [b for b in self.history[-1]["batches"] if prefix + "_batch_size" in b]
        for entry, value in zip(mine[len(mine) - len(values):], values):
            entry[prefix + "_loss"] = value
        self.history.record(prefix + "_batch_count", len(values))

    def train_step_single(self, batch, **fit_params):
        """One training step: the batch augmented on the device, mixed where asked, the loss.

        With ``mixup`` or ``cutmix`` the batch is mixed with a shuffled copy of
        itself (batches of class codes only) and the loss is the mix of both
        faces' losses.

        Parameters
        ----------
        batch : tuple of (Tensor, Tensor)
            Images and targets.
        **fit_params : dict
            Passed to the module.

        Returns
        -------
        step : dict
            ``loss`` (on the device, not yet read) and ``y_pred``, as skorch's step returns them.
        """
        self._set_training(True)
        device = torch.device(resolve_device(self.device))
        Xi, yi = unpack_data(batch)
        Xi, yi = self._augment_batch(to_device(Xi, device)), to_device(yi, device)
        other, lam = None, 1.0
        if (self.mixup or self.cutmix) and getattr(yi, "ndim", 1) == 1:
            Xi, other, lam = mix_batch(Xi, self.mixup, self.cutmix)
        targets, other_targets = self._step_targets(Xi, yi, other)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, targets, X=Xi, training=True)
        if other is not None:
            loss = lam * loss + (1 - lam) * self.get_loss(y_pred, other_targets, X=Xi,
                                                          training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def _augment_batch(self, images):
        """The training batch as the step sees it: through ``augmenter_`` when there is one."""
        return images if self.augmenter_ is None else self.augmenter_(images)

    def _step_targets(self, Xi, yi, other):
        """The targets of the (augmented, mixed) batch ``Xi``, and of the faces mixed into it."""
        return yi, None if other is None else yi[other]

    def infer(self, x, **fit_params):
        """The module's output for ``x``, under bf16 autocast and channels-last where they apply.

        Parameters
        ----------
        x : Tensor or array-like
            A batch of images.
        **fit_params : dict
            Passed to the module.

        Returns
        -------
        logits : Tensor
            The logits, float32 whatever the autocast.
        """
        device = torch.device(resolve_device(self.device))
        x = to_tensor(x, device=device)
        if device.type == "cuda" and isinstance(x, torch.Tensor) and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        dtype = self._autocast_dtype()
        if dtype is None:
            return super().infer(x, **fit_params)
        with torch.autocast(device.type, dtype=dtype):
            out = super().infer(x, **fit_params)
        return out.float()

    def to_classifier(self):
        """Return the fitted network as a plain :class:`EmotionClassifier`, as ``save_model`` does.

        A subclass's training-only parameters (a teacher, ...) are left out, a
        loss derived from cross-entropy becomes cross-entropy, the weights are
        copied.

        Returns
        -------
        clf : EmotionClassifier
            A fitted classifier of its own.
        """
        params = {k: v for k, v in self.get_params(deep=False).items()
                  if k not in self._training_only}
        criterion = params.get("criterion")
        if criterion is not nn.CrossEntropyLoss and issubclass(criterion, nn.CrossEntropyLoss):
            params["criterion"] = nn.CrossEntropyLoss
            for key in [k for k in params if k.startswith("criterion__")]:
                if key not in ("criterion__label_smoothing", "criterion__weight"):
                    del params[key]
        clf = EmotionClassifier(**params)
        if not getattr(self, "initialized_", False):
            return clf
        for name in ("classes_inferred_", "image_shape_", "n_features_in_", "class_weight_",
                     "int8_calibration_"):
            if hasattr(self, name):
                setattr(clf, name, getattr(self, name))
        clf.augmenter_, clf._split_seed = None, None
        clf.initialize()
        clf.module_.load_state_dict(self.module_.state_dict())
        clf.module_.train(self.module_.training)
        clf.history_ = self.history_
        return clf

    # ------------------------------------------------------------------ prediction
    def __sklearn_is_fitted__(self):
        return bool(getattr(self, "initialized_", False)) and hasattr(self, "n_features_in_")

    @on_resolved_device
    def forward_iter(self, X, training=False, device="cpu"):
        """See :meth:`skorch.NeuralNet.forward_iter`.

        Parameters
        ----------
        X : input data
            As skorch takes it.
        training : bool, default=False
            Whether the module runs in training mode.
        device : str, default="cpu"
            Where the outputs are moved.

        Returns
        -------
        outputs : list of torch.Tensor
            The module's output of each batch.
        """
        return list(super().forward_iter(X, training=training, device=device))

    def predict_proba(self, X):
        """Class probabilities, columns in ``classes_`` order.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width) or (n_samples, height*width)
            Images of the size seen in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probabilities, float32, averaged over the test-time views with ``tta``.
        """
        if isinstance(X, TorchDataset):  # skorch's own scoring callbacks
            return super().predict_proba(X)
        check_is_fitted(self)
        images = self._images(X, reset=False)
        views = test_time_views(images, self.tta_shift) if self.tta else [images]
        return self._fast_predictor().predict_proba(views, self.batch_size)

    def predict(self, X):
        """The most probable label of each image, of the same kind as ``y`` in ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width) or (n_samples, height*width)
            Images of the size seen in ``fit``.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Values of ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy on ``X`` against ``y``: FER2013 codes, emotion names or aliases, any case.

        ``y`` is read as the kind of labels of ``fit`` (e.g. the codes of
        :func:`~fer_sklearn.load_fer2013` against a model of emotion names).

        Parameters
        ----------
        X : array-like of images
            As :meth:`predict` takes them.
        y : array-like of shape (n_samples,)
            The true labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the images.

        Returns
        -------
        accuracy : float
            The share of images whose label is predicted.
        """
        return super().score(X, labels_like(y, self.classes_), sample_weight=sample_weight)

    def inference_precision(self):
        """What ``predict_proba`` computes in here: ``"32"``, ``"bf16"`` or ``"int8"``.

        ``precision="auto"`` on a CPU is the process's choice
        (``fer_sklearn.show_versions()`` reports it), float32 where it is int8
        but the net has no int8 ranges.

        Returns
        -------
        precision : {"32", "bf16", "int8"}
            The arithmetic of the predictions.
        """
        precision = self._precision()
        if self._on_cuda():
            if precision == "int8":
                raise ValueError("precision='int8' runs on the CPU only; use 'auto', 'bf16' or "
                                 "'32' on CUDA, or device='cpu'")
            auto = precision == "auto" and torch.cuda.is_bf16_supported()
            return "bf16" if precision == "bf16" or auto else "32"
        if precision == "auto":
            precision = cpu_precision()
            return "32" if precision == "int8" and self._int8_source() is None else precision
        if precision == "int8" and self._int8_source() is None:
            raise ValueError("precision='int8' needs the ranges of the network's activations: "
                             "calibrate it with fer_sklearn.deploy.quantize(model, X) on a few "
                             "hundred training images")
        return precision

    def _int8_source(self):
        """Calibration images (``int8_calibration_``), or ranges observed for these very
        weights (``int8_ranges_``), or None."""
        calibration = getattr(self, "int8_calibration_", None)
        if calibration is not None:
            return calibration
        ranges = getattr(self, "int8_ranges_", None)
        if ranges is not None and ranges.get("weights") == weights_fingerprint(self.module_):
            return ranges
        return None

    def _fast_predictor(self):
        """The network folded for inference, rebuilt when its weights, device or precision change.

        Kept outside the estimator's ``__dict__`` (prediction leaves the
        estimator as it was, and pickles never carry it).
        """
        device = torch.device(resolve_device(self.device))
        key = (weights_version(self.module_), device, self._precision(), cpu_precision(),
               id(getattr(self, "int8_calibration_", None)),
               id(getattr(self, "int8_ranges_", None)))
        cached = _PREDICTORS.get(self)
        if cached is not None and cached.key == key:
            return cached
        precision = self.inference_precision()
        nonlinearity = self._get_predict_nonlinearity()
        if precision == "int8":
            cached = Int8Predictor(self.module_, self._int8_source(), nonlinearity)
        else:
            dtype = torch.bfloat16 if precision == "bf16" else None
            cached = FastPredictor(self.module_, device, dtype, nonlinearity)
        cached.key = key
        _PREDICTORS[self] = cached
        return cached

    # ------------------------------------------------------------------ pickling, tags
    def __setstate__(self, state):
        requested = state.get("device")
        if requested == "auto":  # skorch maps the weights to the device it finds
            state["device"] = resolve_device("auto")
        super().__setstate__(state)
        if requested == "auto":
            self.device = "auto"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

"""Distillation as an estimator: a student EmotionClassifier that learns from a fitted teacher."""

from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import clone
from torch import nn
from torch.utils.data import Subset

from ..neural_net import DeviceBatches, EmotionClassifier, EmotionCNN, resolve_device
from ..utils import Interval, check_images
from ._cache import TeacherCache
from ._teacher import BatchTeacher, resolve_teacher, teacher_columns

DISTILL_PARAMS = ("teacher", "alpha", "temperature", "n_views", "cache_dir")


class DistillationLoss(nn.CrossEntropyLoss):
    """``alpha`` x KL to the teacher at ``temperature`` (times T²) + (1 - alpha) x cross-entropy.

    Targets are either class codes ``(n,)`` (plain cross-entropy, e.g. on the
    validation data) or ``(n, 1 + C)`` rows: the class code (-1 for a face
    without a label, which then learns from the teacher alone) followed by the
    teacher's log-probabilities.

    Parameters
    ----------
    alpha : float, default=0.75
        Weight of the teacher's term.
    temperature : float, default=2.0
        Softens both distributions in the teacher's term.
    label_smoothing : float, default=0.0
        Of the cross-entropy term.
    weight : tensor or None, default=None
        Class weights of the cross-entropy term.
    """

    def __init__(self, alpha=0.75, temperature=2.0, label_smoothing=0.0, weight=None):
        # a CrossEntropyLoss, so that skorch predicts probabilities (softmax) with it
        super().__init__(weight=None if weight is None else torch.as_tensor(weight),
                         label_smoothing=label_smoothing)
        self.alpha = alpha
        self.temperature = temperature

    def forward(self, logits, target):
        """The loss of ``logits`` against ``target``.

        Parameters
        ----------
        logits : Tensor of shape (n, C)
            The student's outputs.
        target : Tensor of shape (n,) or (n, 1 + C)
            Class codes, or rows of the class code and the teacher's log-probabilities.

        Returns
        -------
        loss : Tensor
            A scalar.
        """
        if target.dim() == 1:
            return F.cross_entropy(logits, target.long(), weight=self.weight,
                                   label_smoothing=self.label_smoothing)
        codes, teacher = target[:, 0].long(), target[:, 1:].float()
        t = self.temperature
        kl = F.kl_div(F.log_softmax(logits.float() / t, dim=1), F.log_softmax(teacher / t, dim=1),
                      log_target=True, reduction="batchmean") * t * t
        labelled = codes >= 0
        ce = F.cross_entropy(logits, codes.clamp(min=0), weight=self.weight, reduction="none",
                             label_smoothing=self.label_smoothing)
        ce = (ce * labelled).sum() / labelled.sum().clamp(min=1)
        return self.alpha * kl + (1 - self.alpha) * ce


class DistilledEmotionClassifier(EmotionClassifier):
    """An :class:`~fer_sklearn.EmotionClassifier` that learns from a fitted teacher model.

    The loss mixes the KL divergence to the teacher's temperature-softened
    outputs with the cross-entropy on the labels (:class:`DistillationLoss`).
    With ``n_views=None`` the teacher labels every training batch as the
    student sees it, augmented (and mixed), on the student's device: the way
    on a GPU, where its forward pass is cheap. With an integer, the teacher's
    outputs are computed once over ``n_views`` augmented copies of the training
    faces (the student's ``augment``), optionally cached on disk, and the
    student then trains on exactly those copies (each epoch, each face from a
    random copy): on a CPU the teacher's forward pass would otherwise dominate,
    at the price of fewer distinct answers of the teacher. The teacher is only
    used by ``fit``: :func:`~fer_sklearn.save_model` writes the student as a
    plain :class:`~fer_sklearn.EmotionClassifier` (:meth:`to_classifier`),
    which loads without the teacher.

    Parameters
    ----------
    module : type or torch.nn.Module, default=EmotionCNN
        The student network.
    teacher : fitted estimator, str or None, default=None
        Any fitted model with ``predict_proba`` and ``classes_`` (a classifier,
        a pipeline, an ensemble), the name of a pretrained model or the path of
        a model file. It is called on the images ``fit`` receives (inside a
        pipeline: the preprocessed ones; give the teacher's classifier step and
        the teacher's preprocessing, as ``fer-sklearn distill`` does). None
        trains on the labels alone.
    alpha : float, default=0.75
        Weight of the teacher's term in the loss.
    temperature : float, default=2.0
        Softening of the teacher's and the student's outputs in that term.
    n_views : int or None, default=4
        Augmented copies of the training faces the teacher labels once; None:
        the teacher labels each training batch instead.
    cache_dir : str, path or None, default=None
        Folder for the teacher's outputs over the copies, reused by a later
        ``fit`` on the same faces with the same teacher, augmenter and
        ``random_state``.
    criterion : type, default=DistillationLoss
        The loss; it gets ``alpha`` and ``temperature``.
    optimizer, lr, max_epochs, batch_size, iterator_train, iterator_valid, dataset : object
        As :class:`~fer_sklearn.EmotionClassifier` takes them.
    train_split, callbacks, predict_nonlinearity, warm_start, verbose, device : object
        As :class:`~fer_sklearn.EmotionClassifier` takes them.
    compile, use_caching, torch_load_kwargs : object
        As :class:`~fer_sklearn.EmotionClassifier` takes them.
    **kwargs
        :class:`~fer_sklearn.EmotionClassifier` parameters (mixup and cutmix apply to
        batches of labels only when the copies are cached, to every batch when
        the teacher labels the batches).

    Examples
    --------
    >>> from fer_sklearn import EmotionClassifier, make_faces
    >>> from fer_sklearn.training import DistilledEmotionClassifier
    >>> X, y = make_faces(140, size=24, random_state=0)
    >>> teacher = EmotionClassifier(max_epochs=2, module__width=8, random_state=0,
    ...                             verbose=0).fit(X / 255, y)
    >>> student = DistilledEmotionClassifier(teacher=teacher, n_views=2, max_epochs=2,
    ...                                      module__width=4, random_state=0,
    ...                                      verbose=0).fit(X / 255, y)
    >>> student.predict(X[:3] / 255).shape
    (3,)
    """

    _parameter_constraints = {
        **EmotionClassifier._parameter_constraints,
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "n_views": [Interval(Integral, 1, None, closed="left"), None],
        "cache_dir": [None, str, Path],
    }
    _training_only = DISTILL_PARAMS

    def __init__(self, module=EmotionCNN, *, teacher=None, alpha=0.75, temperature=2.0, n_views=4,
                 cache_dir=None, criterion=DistillationLoss, **kwargs):
        super().__init__(module, criterion=criterion, **kwargs)
        self.teacher = teacher
        self.alpha = alpha
        self.temperature = temperature
        self.n_views = n_views
        self.cache_dir = cache_dir

    def __sklearn_clone__(self):
        # the teacher is fitted and must stay so: shared, not cloned (as FrozenEstimator would)
        params = {name: value if name == "teacher" else clone(value, safe=False)
                  for name, value in self.get_params(deep=False).items()}
        return type(self)(**params)

    def get_params_for(self, prefix):
        """Route skorch's parameters; the criterion also gets ``alpha`` and ``temperature``.

        Parameters
        ----------
        prefix : str
            The part the parameters are for (``"criterion"``, ``"module"``, ...).

        Returns
        -------
        params : dict
            Its parameters, without the prefix.
        """
        params = super().get_params_for(prefix)
        if prefix == "criterion" and self.criterion is DistillationLoss:
            params.setdefault("alpha", self.alpha)
            params.setdefault("temperature", self.temperature)
        return params

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y, X_valid=None, y_valid=None, X_unlabelled=None, **fit_params):
        """Train on ``X``, ``y`` against the teacher (and on ``X_unlabelled`` from it alone).

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width) or (n_samples, height*width)
            Grayscale images, as in :meth:`EmotionClassifier.fit`.
        y : array-like of shape (n_samples,)
            Labels, as in :meth:`EmotionClassifier.fit`.
        X_valid, y_valid : array-like, default=None
            A fixed validation set, as in :meth:`EmotionClassifier.fit`.
        X_unlabelled : array-like of images or None, default=None
            Faces without labels (e.g. an image folder without emotion
            folders), learnt from the teacher's outputs alone; needs a teacher.
        **fit_params : dict
            Passed to skorch's ``fit``.

        Returns
        -------
        self : DistilledEmotionClassifier
            The fitted student.
        """
        if X_unlabelled is not None and self.teacher is None:
            raise ValueError("X_unlabelled needs a teacher: set teacher= to a fitted model")
        if X_unlabelled is not None and self.n_views is None:
            raise ValueError("X_unlabelled is learnt from the teacher's cached copies: set "
                             "n_views to a number of copies (e.g. 4), not None")
        self._unlabelled = X_unlabelled
        try:
            return super().fit(X, y, X_valid=X_valid, y_valid=y_valid, **fit_params)
        finally:
            self._unlabelled = self._distill = self._batch_teacher = None

    def _prepare(self, X, y, X_valid, y_valid, *, reset):
        images, codes, valid = super()._prepare(X, y, X_valid, y_valid, reset=reset)
        self._distill = self._batch_teacher = None
        if self.teacher is not None and self.n_views is None:
            teacher = resolve_teacher(self.teacher)
            self._batch_teacher = BatchTeacher(
                teacher, teacher_columns(teacher, self.classes_),
                torch.device(resolve_device(self.device)), images.shape[2:], self._autocast_dtype())
        elif self.teacher is not None:
            self._distill = self._teacher_targets(images, codes)
        return images, codes, valid

    def _teacher_targets(self, images, codes):
        teacher = resolve_teacher(self.teacher)
        columns = teacher_columns(teacher, self.classes_)
        faces, all_codes = images, np.asarray(codes)
        unlabelled = getattr(self, "_unlabelled", None)
        if unlabelled is not None:
            extra = check_images(unlabelled, allow_channels=False, image_shape=self.image_shape,
                                 what="X_unlabelled")
            if extra.shape[1:] != images.shape[2:]:
                raise ValueError(f"X_unlabelled has images of size {extra.shape[1:]}, "
                                 f"X has {images.shape[2:]}")
            faces = np.concatenate([images, extra[:, None].astype(images.dtype)])
            all_codes = np.concatenate([all_codes, np.full(len(extra), -1)])
        seed = self.random_state if isinstance(self.random_state, Integral) else 0
        cache = TeacherCache(teacher, columns, self.augmenter_, seed, self.cache_dir,
                             log=print if self.verbose else None)
        views, log_proba = cache.outputs(faces, self.n_views)
        return views, log_proba, all_codes, len(images)

    def get_iterator(self, dataset, training=False):
        """Training batches from the teacher-labelled copies; the classifier's iterators otherwise.

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
        distill = getattr(self, "_distill", None)
        if not training or distill is None:
            return super().get_iterator(dataset, training=training)
        views, log_proba, codes, n_labelled = distill
        indices = (np.asarray(dataset.indices) if isinstance(dataset, Subset)
                   else np.arange(len(dataset)))
        indices = np.concatenate([indices, np.arange(n_labelled, len(codes))])
        codes = torch.as_tensor(codes, dtype=torch.float32)[None, :, None]
        log_proba = torch.as_tensor(log_proba)
        targets = torch.cat([codes.expand(len(log_proba), -1, -1), log_proba], dim=2)
        return DeviceBatches(views, targets, self.batch_size, resolve_device(self.device),
                             shuffle=self.get_params_for("iterator_train").get("shuffle", True),
                             indices=indices, views=True)

    def _augment_batch(self, images):
        """The cached copies are augmented already: only batches of the data are augmented here."""
        if getattr(self, "_distill", None) is not None:
            return images
        return super()._augment_batch(images)

    def _step_targets(self, Xi, yi, other):
        """With the teacher on every batch: codes and the teacher's answers on the mixed faces."""
        if getattr(self, "_batch_teacher", None) is None:
            return super()._step_targets(Xi, yi, other)
        codes, teacher = yi.float()[:, None], self._batch_teacher(Xi)
        return (torch.cat([codes, teacher], 1),
                None if other is None else torch.cat([codes[other], teacher], 1))

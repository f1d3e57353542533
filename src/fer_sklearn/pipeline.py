"""make_emotion_pipeline: grayscale -> resize -> normalize -> EmotionClassifier."""

import numpy as np
from sklearn import get_config
from sklearn.pipeline import Pipeline
from sklearn.utils import gen_batches
from sklearn.utils.metaestimators import available_if

from .neural_net import EmotionClassifier
from .preprocessing import Grayscale, ImageResizer, PixelNormalizer


class EmotionPipeline(Pipeline):
    """A :class:`~sklearn.pipeline.Pipeline` whose ``fit`` also takes a fixed validation set.

    ``fit(X, y, X_valid=..., y_valid=...)`` fits the preprocessing steps on
    ``X`` alone, passes ``X_valid`` through them, and gives the result to the
    final classifier for early stopping (e.g. FER2013's PublicTest).
    ``predict`` and ``predict_proba`` pass an in-memory array through all the
    steps in chunks sized by ``sklearn.get_config()["working_memory"]``, so
    their memory stays flat in the number of images.
    """

    def fit(self, X, y=None, X_valid=None, y_valid=None, **params):
        """Fit the pipeline, optionally validating on ``X_valid``/``y_valid``.

        Parameters
        ----------
        X : array-like of images
            Training images.
        y : array-like of shape (n_samples,)
            Their labels.
        X_valid, y_valid : array-like, default=None
            Validation images and labels, transformed by the fitted steps.
        **params : dict
            Fit parameters routed as in :class:`~sklearn.pipeline.Pipeline`.

        Returns
        -------
        self : EmotionPipeline
            The fitted pipeline.
        """
        if X_valid is None and y_valid is None:
            return super().fit(X, y, **params)
        preprocessing = self[:-1]
        Xt = preprocessing.fit_transform(X, y)
        Xv = preprocessing.transform(X_valid)
        last_params = {k.split("__", 1)[1]: v for k, v in params.items()
                       if k.startswith(self.steps[-1][0] + "__")}
        self._final_estimator.fit(Xt, y, X_valid=Xv, y_valid=y_valid, **last_params)
        return self

    def _chunk_rows(self, X):
        """Images per chunk: the steps' float copies of one image (about four float64
        copies of its larger of input and 48x48 pixels) within ``working_memory``."""
        pixels = max(int(np.prod(X.shape[1:])), 48 * 48)
        return max(1, int(get_config()["working_memory"] * 2**20) // (4 * 8 * pixels))

    def _in_chunks(self, method, X, **params):
        """``Pipeline.<method>`` over chunks of an in-memory array, so that memory stays flat.

        Every step transforms the whole input at once, so one call on 128,000
        faces held +2.2 GiB of copies; chunks of ``sklearn.get_config()["working_memory"]``
        (:func:`sklearn.utils.gen_batches`) keep the peak flat in the number of images,
        with the same answers. Other inputs (lists, paths) go through whole.
        """
        run = getattr(super(), method)
        if not isinstance(X, np.ndarray) or X.ndim < 2 or len(X) <= self._chunk_rows(X):
            return run(X, **params)
        return np.concatenate([run(X[rows], **params)
                               for rows in gen_batches(len(X), self._chunk_rows(X))])

    @available_if(lambda self: hasattr(self._final_estimator, "predict"))
    def predict(self, X, **params):
        """The label of each image, in chunks of ``working_memory`` (see ``Pipeline.predict``)."""
        return self._in_chunks("predict", X, **params)

    @available_if(lambda self: hasattr(self._final_estimator, "predict_proba"))
    def predict_proba(self, X, **params):
        """Class probabilities, in chunks of ``working_memory`` (see ``Pipeline.predict_proba``)."""
        return self._in_chunks("predict_proba", X, **params)



def make_emotion_pipeline(**classifier_params):
    """Build the standard emotion pipeline.

    Steps: ``grayscale`` (:class:`~fer_sklearn.preprocessing.Grayscale`),
    ``resize`` (:class:`~fer_sklearn.preprocessing.ImageResizer`, 48x48),
    ``normalize`` (:class:`~fer_sklearn.preprocessing.PixelNormalizer`) and
    ``clf`` (:class:`EmotionClassifier`).

    Parameters
    ----------
    **classifier_params
        Parameters of the :class:`EmotionClassifier` (``max_epochs=10``,
        ``module__dropout=0.3``, ...).

    Returns
    -------
    pipeline : EmotionPipeline
        An unfitted :class:`~sklearn.pipeline.Pipeline`; its ``fit`` also takes
        ``X_valid`` and ``y_valid``.

    Examples
    --------
    >>> from fer_sklearn import make_emotion_pipeline
    >>> [name for name, _ in make_emotion_pipeline(max_epochs=5).steps]
    ['grayscale', 'resize', 'normalize', 'clf']
    """
    return EmotionPipeline([
        ("grayscale", Grayscale()),
        ("resize", ImageResizer(size=48)),
        ("normalize", PixelNormalizer()),
        ("clf", EmotionClassifier(**classifier_params)),
    ])

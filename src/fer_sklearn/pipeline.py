"""make_emotion_pipeline: grayscale -> resize -> normalize -> EmotionClassifier."""

from sklearn.pipeline import Pipeline

from ._registry import register_class
from .neural_net import EmotionClassifier
from .preprocessing import Grayscale, ImageResizer, PixelNormalizer


class EmotionPipeline(Pipeline):
    """A :class:`~sklearn.pipeline.Pipeline` whose ``fit`` also takes a fixed validation set.

    ``fit(X, y, X_valid=..., y_valid=...)`` fits the preprocessing steps on
    ``X`` alone, passes ``X_valid`` through them, and gives the result to the
    final classifier for early stopping (e.g. FER2013's PublicTest).
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


register_class("fer_sklearn.EmotionPipeline", EmotionPipeline)  # model files may name it
register_class("sklearn.pipeline.Pipeline", Pipeline)


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

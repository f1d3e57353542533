"""skorch callbacks for the library's training recipes."""

from skorch.callbacks import Callback

from ._distill import resolve_teacher


class InitialWeights(Callback):
    """Start a fresh ``fit`` from the weights of another model of the same network shape.

    Only the first epoch of a ``fit`` is affected (a resumed run's checkpoint,
    loaded after this callback by :class:`~fer_sklearn.persistence.ResumeTraining`,
    takes precedence). Holds a name or path, not a model, so it clones and pickles.

    Parameters
    ----------
    source : str or path
        A pretrained model's name (:func:`~fer_sklearn.available_models`) or a
        model file (:func:`~fer_sklearn.save_model`) of one network.
    """

    def __init__(self, source):
        self.source = source

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Copy the source's weights into ``net.module_`` when no epoch has run yet."""
        if len(net.history):
            return
        model = resolve_teacher(self.source)
        source = model[-1] if hasattr(model, "steps") else model
        state = source.module_.state_dict()
        try:
            net.module_.load_state_dict(state)
        except RuntimeError as exc:
            raise ValueError(f"InitialWeights({self.source!r}): its network does not have the "
                             f"shape of this one ({exc})") from None

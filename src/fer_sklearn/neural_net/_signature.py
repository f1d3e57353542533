"""The parameters of a skorch-based estimator, as scikit-learn's repr should see them."""

import inspect

from skorch import NeuralNet


def with_skorch_defaults(cls):
    """Class decorator: ``cls.__init__``'s signature also names skorch's parameters.

    skorch's own parameters (``callbacks``, ``dataset``, ``iterator_train``...)
    reach our ``__init__`` through ``**kwargs``, so scikit-learn's repr, which
    prints the parameters that differ from the signature's defaults, printed
    every one of them. With skorch's defaults in the signature, a repr names
    only what was changed, as for any scikit-learn estimator.

    Parameters
    ----------
    cls : type
        A subclass of :class:`skorch.NeuralNet` whose ``__init__``
        takes ``**kwargs``.

    Returns
    -------
    cls : type
        The same class.
    """
    own = inspect.signature(cls.__init__)
    params = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]
    names = {p.name for p in params}
    skorch = [p.replace(kind=p.KEYWORD_ONLY)
              for p in inspect.signature(NeuralNet.__init__).parameters.values()
              if p.name not in names and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    rest = [p for p in own.parameters.values() if p.kind is p.VAR_KEYWORD]
    cls.__init__.__signature__ = own.replace(parameters=params + skorch + rest)
    cls.__init__.with_skorch_defaults = True  # the API pages show __init__ as written
    return cls

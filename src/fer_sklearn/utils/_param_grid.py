"""Search grids: their names checked against an estimator before any training."""

import difflib
import inspect
from collections.abc import Mapping

# the parameters a skorch net routes to the objects it builds (``module__dropout``)
_SKORCH_ROUTES = ("module", "criterion", "optimizer")


def _is_skorch_net(obj):
    # skorch's NeuralNet, told by what it routes (importing skorch here would load torch)
    return (isinstance(getattr(type(obj), "prefixes_", None), list)
            and hasattr(obj, "get_params_for"))


def _routes(net):
    return (*_SKORCH_ROUTES, *getattr(net, "prefixes_", ()))


def _keywords(target):
    """The keyword arguments of the class or function ``target`` (None: any, or cannot tell)."""
    if not (inspect.isclass(target) or inspect.isfunction(target)):
        return None
    try:
        parameters = inspect.signature(target).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return None
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return None
    return [name for name in parameters if name != "self"]


def _accepts(target, name):
    """Whether ``target`` (a class, or an instance already built) takes a parameter ``name``."""
    keywords = _keywords(target)
    if keywords is None:
        return inspect.isclass(target) or inspect.isfunction(target) or hasattr(target, name)
    return name in keywords


def _routed_ok(net, rest):
    """Whether ``rest`` (``["module", "dropout"]``) is a parameter that ``net`` routes."""
    route = rest[0]
    if route not in _routes(net) or len(rest) < 2:
        return False
    if route not in _SKORCH_ROUTES or len(rest) > 2:
        return True  # callbacks__<name>__<param>, iterator_train__...: skorch checks them
    return _accepts(getattr(net, route), rest[1])


def _is_param(params, name):
    if name in params:
        return True
    parts = name.split("__")
    for i in range(len(parts) - 1, 0, -1):
        owner = params.get("__".join(parts[:i]))
        if owner is not None and _is_skorch_net(owner):
            return _routed_ok(owner, parts[i:])
    return False


def _known_names(params):
    """The names of ``params`` and those routed by its skorch nets to classes (for hints)."""
    names = list(params)
    for owner, net in params.items():
        if _is_skorch_net(net):
            names += [f"{owner}__{route}__{keyword}" for route in _SKORCH_ROUTES
                      for keyword in _keywords(getattr(net, route)) or ()]
    return names


def valid_prefixes(estimator):
    """List the parameter prefixes of ``estimator``'s steps and of the skorch nets among them.

    Parameters
    ----------
    estimator : estimator
        A pipeline, or any estimator.

    Returns
    -------
    prefixes : list of str
        E.g. ``"clf__"`` and ``"clf__module__"``.

    Examples
    --------
    >>> from fer_sklearn import make_emotion_pipeline
    >>> from fer_sklearn.utils import valid_prefixes
    >>> valid_prefixes(make_emotion_pipeline())[:5]
    ['grayscale__', 'resize__', 'normalize__', 'clf__', 'clf__module__']
    """
    params = estimator.get_params(deep=True)
    owners = [name for name, value in params.items()
              if "__" not in name and hasattr(value, "get_params")]
    prefixes = []
    for name in owners:
        prefixes.append(f"{name}__")
        if _is_skorch_net(params[name]):
            prefixes += [f"{name}__{route}__" for route in _routes(params[name])]
    return prefixes


def check_param_grid(estimator, param_grid):
    """Check that every name of ``param_grid`` is a parameter of ``estimator``, before any fit.

    Names of the estimator's ``get_params(deep=True)`` are valid, and so are
    the parameters a skorch net routes to the objects it builds
    (``clf__module__dropout``, ``clf__optimizer__weight_decay``), checked
    against the signature of the module, criterion or optimizer class.

    Parameters
    ----------
    estimator : estimator
        What will be searched over, e.g. :func:`~fer_sklearn.make_emotion_pipeline`.
    param_grid : dict or list of dict
        The grid (or distributions) of the search.

    Raises
    ------
    ValueError
        Naming the first unknown parameter, the closest valid names and the
        valid prefixes.

    Examples
    --------
    >>> from fer_sklearn import make_emotion_pipeline
    >>> from fer_sklearn.utils import check_param_grid
    >>> check_param_grid(make_emotion_pipeline(), {"clf__module__dropout": [0.3, 0.5]})
    >>> check_param_grid(make_emotion_pipeline(), {"clf__dropout": [0.3]})
    Traceback (most recent call last):
    ...
    ValueError: 'clf__dropout' is not a parameter of the EmotionPipeline; valid prefixes: ...
    """
    grids = [param_grid] if isinstance(param_grid, Mapping) else list(param_grid)
    params = estimator.get_params(deep=True)
    for grid in grids:
        for name in grid:
            if not _is_param(params, name):
                close = difflib.get_close_matches(name, _known_names(params), n=3)
                hint = f" (closest: {', '.join(close)})" if close else ""
                raise ValueError(
                    f"{name!r} is not a parameter of the {type(estimator).__name__}; valid "
                    f"prefixes: {', '.join(valid_prefixes(estimator))}{hint}")

"""Parameter checks in scikit-learn's declarative style, without its private module.

Estimators declare ``_parameter_constraints`` (``{name: [constraint, ...]}``) and functions
take the same table through :func:`validate_params`; a value is accepted when it satisfies
one constraint of its list. A constraint is ``None``, a type, ``"boolean"``,
``"random_state"``, ``"no_validation"``, an :class:`Interval` or a :class:`StrOptions`.
The errors read as scikit-learn's: "The 'lr' parameter of EmotionClassifier must be a float
in the range (0, inf). Got -1 instead."
"""

import functools
import inspect
import operator
from numbers import Integral

import numpy as np


class InvalidParameterError(ValueError, TypeError):
    """A parameter's value is not one of those it accepts (a ValueError and a TypeError)."""


class Interval:
    """Numbers of ``type`` between ``left`` and ``right`` (None: unbounded).

    Parameters
    ----------
    type : {numbers.Integral, numbers.Real}
        Integers only, or any real number.
    left, right : float or None
        The bounds.
    closed : {"left", "right", "both", "neither"}
        Which bounds belong to the interval.
    """

    def __init__(self, type, left, right, *, closed):
        self.type = type
        self.left = left
        self.right = right
        self.closed = closed

    def is_satisfied_by(self, value):
        """Whether ``value`` lies in the interval.

        Parameters
        ----------
        value : object
            The value to check.

        Returns
        -------
        satisfied : bool
            True for a number of ``type`` within the bounds (never NaN or a bool).
        """
        if not isinstance(value, self.type) or isinstance(value, (bool, np.bool_)):
            return False
        if value != value:  # NaN lies in no interval
            return False
        low = operator.ge if self.closed in ("left", "both") else operator.gt
        high = operator.le if self.closed in ("right", "both") else operator.lt
        return ((self.left is None or low(value, self.left))
                and (self.right is None or high(value, self.right)))

    def __str__(self):
        kind = "an int" if self.type is Integral else "a float"
        left = "-inf" if self.left is None else self.left
        right = "inf" if self.right is None else self.right
        opening = "[" if self.closed in ("left", "both") and self.left is not None else "("
        closing = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{kind} in the range {opening}{left}, {right}{closing}"


class StrOptions:
    """One of the strings ``options``.

    Parameters
    ----------
    options : set of str
        The accepted values.
    """

    def __init__(self, options):
        self.options = set(options)

    def is_satisfied_by(self, value):
        """Whether ``value`` is one of the options.

        Parameters
        ----------
        value : object
            The value to check.

        Returns
        -------
        satisfied : bool
            True for a string among ``options``.
        """
        return isinstance(value, str) and value in self.options

    def __str__(self):
        return f"a str among {{{', '.join(repr(o) for o in sorted(self.options))}}}"


def _satisfies(constraint, value):
    if constraint is None:
        return value is None
    if constraint == "boolean":
        return isinstance(value, (bool, np.bool_))
    if constraint == "random_state":
        return (value is None or isinstance(value, np.random.RandomState)
                or (isinstance(value, Integral) and 0 <= value < 2**32))
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    return constraint.is_satisfied_by(value)


def _describe(constraint):
    if constraint is None:
        return "None"
    if constraint == "boolean":
        return "an instance of 'bool'"
    if constraint == "random_state":
        return "an int in the range [0, 4294967295], an instance of 'RandomState' or None"
    if isinstance(constraint, type):
        return f"an instance of {constraint.__name__!r}"
    return str(constraint)


def check_params(constraints, params, caller):
    """Check each value of ``params`` against its constraints.

    Parameters
    ----------
    constraints : dict of str to list
        The accepted constraints of each parameter; parameters not named are not checked.
    params : dict
        The values.
    caller : str
        The estimator's or function's name, for the message.

    Raises
    ------
    InvalidParameterError
        Naming the first parameter whose value satisfies none of its constraints.

    Examples
    --------
    >>> from numbers import Real
    >>> from fer_sklearn.utils import Interval, check_params
    >>> check_params({"lr": [Interval(Real, 0, None, closed="neither")]}, {"lr": -1}, "net")
    Traceback (most recent call last):
    ...
    fer_sklearn.utils._param_validation.InvalidParameterError: The 'lr' parameter of net must be a float in the range (0, inf). Got -1 instead.
    """  # noqa: E501
    for name, allowed in constraints.items():
        if name not in params or allowed == "no_validation":
            continue
        value = params[name]
        if any(_satisfies(constraint, value) for constraint in allowed):
            continue
        described = [_describe(c) for c in allowed]
        accepted = described[0] if len(described) == 1 else (
            f"{', '.join(described[:-1])} or {described[-1]}")
        raise InvalidParameterError(f"The {name!r} parameter of {caller} must be {accepted}. "
                                    f"Got {value!r} instead.")


def validate_params(constraints):
    """Decorate a function to check its arguments with :func:`check_params` at every call.

    Parameters
    ----------
    constraints : dict of str to list
        As :func:`check_params` takes them, by parameter name.

    Returns
    -------
    decorator : callable
        It wraps a function so that every call checks its arguments first.
    """

    def decorate(function):
        signature = inspect.signature(function)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            check_params(constraints, bound.arguments, function.__name__)
            return function(*args, **kwargs)

        return wrapper

    return decorate

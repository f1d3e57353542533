"""The validation split of a fit, as a skorch ``train_split``."""

import numpy as np
from skorch.dataset import Dataset, ValidSplit
from skorch.helper import predefined_split


def validation_split(codes, valid, train_split, fraction, seed):
    """The skorch split for one fit.

    Parameters
    ----------
    codes : ndarray of int
        The training labels as class codes.
    valid : tuple (images, codes) or None
        A fixed validation set (``fit``'s ``X_valid``/``y_valid``): used as is.
    train_split : callable or None
        The user's skorch split, used when there is no fixed set.
    fraction : float or None
        Otherwise, the share held out at random, stratified when every class
        has at least two images and both sides can hold every class.
    seed : int or None
        Random state of that split.

    Returns
    -------
    split : callable or None
    """
    if valid is not None:
        return predefined_split(Dataset(*valid))
    if train_split or not fraction or len(codes) < 2:
        return train_split or None
    counts = np.unique(codes, return_counts=True)[1]
    n_valid = int(np.ceil(fraction * len(codes)))
    stratified = counts.min() >= 2 and min(n_valid, len(codes) - n_valid) >= len(counts)
    return ValidSplit(fraction, stratified=stratified, random_state=seed)

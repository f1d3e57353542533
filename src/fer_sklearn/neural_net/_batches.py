"""Training batches cut by index from tensors held on the training device."""

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import Subset


def in_memory_arrays(dataset):
    """``(X, y)`` arrays of a skorch ``Dataset`` (or a ``Subset`` of one), else ``None``."""
    indices = None
    if isinstance(dataset, Subset):
        dataset, indices = dataset.dataset, np.asarray(dataset.indices)
    if type(dataset) is not Dataset or not isinstance(dataset.X, np.ndarray) or dataset.y is None:
        return None
    X, y = dataset.X, np.asarray(dataset.y)
    if indices is not None:
        X, y = X[indices], y[indices]
    return X, y


class DeviceBatches:
    """Mini-batches of in-memory images, moved to ``device`` once and cut there by index.

    Replaces a ``DataLoader`` that collates one item at a time: the images go
    to the device as one tensor at the start of training, and every batch is a
    slice of a random permutation drawn on that device, so a GPU never waits
    for the CPU to assemble batches.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
        The images.
    y : ndarray of shape (n_samples,)
        Integer class codes.
    batch_size : int
        Images per batch (the last one may be smaller).
    device : str or torch.device
        Where the tensors live.
    shuffle : bool, default=True
        Draw a new order every epoch (from torch's global generator).

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn.neural_net._batches import DeviceBatches
    >>> batches = DeviceBatches(np.zeros((5, 1, 4, 4), np.float32), np.arange(5), 2, "cpu")
    >>> [len(y) for _, y in batches]
    [2, 2, 1]
    """

    def __init__(self, X, y, batch_size, device, shuffle=True):
        self.X = torch.as_tensor(X, device=device)
        self.y = torch.as_tensor(y, device=device)
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        return -(-len(self.y) // self.batch_size)

    def __iter__(self):
        n = len(self.y)
        if self.shuffle:
            order = torch.randperm(n, device=self.y.device)
        else:
            order = torch.arange(n, device=self.y.device)
        for start in range(0, n, self.batch_size):
            index = order[start:start + self.batch_size]
            yield self.X[index], self.y[index]

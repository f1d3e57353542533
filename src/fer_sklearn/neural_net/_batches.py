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
    """Mini-batches of in-memory data, moved to ``device`` once and cut there by index.

    Replaces a ``DataLoader`` that collates one item at a time: the data go to
    the device as one tensor at the start of training, and every batch is a
    slice of a random permutation drawn on that device, so a GPU never waits
    for the CPU to assemble batches. Images come out as float32.

    Parameters
    ----------
    X : ndarray or Tensor of shape (n_samples, ...), or (n_views, n_samples, ...) with ``views``
        The images.
    y : ndarray or Tensor of shape (n_samples, ...), or (n_views, n_samples, ...) with ``views``
        The targets (class codes, or rows of them).
    batch_size : int
        Images per batch (the last one may be smaller).
    device : str or torch.device
        Where the tensors live.
    shuffle : bool, default=True
        Draw a new order every epoch (from the device's generator).
    indices : array-like of int or None, default=None
        The samples batches are cut from (all by default).
    views : bool, default=False
        ``X`` and ``y`` hold several copies of each sample (e.g. augmented
        copies labelled once by a teacher): each epoch, every sample comes from
        one copy drawn at random.
    epoch_transform : callable or None, default=None
        Applied to all the epoch's images in one call (the epoch's augmentation
        at once); the last partial batch is then dropped, so that every batch
        has the same shape.

    Examples
    --------
    >>> import numpy as np
    >>> from fer_sklearn.neural_net._batches import DeviceBatches
    >>> batches = DeviceBatches(np.zeros((5, 1, 4, 4), np.float32), np.arange(5), 2, "cpu")
    >>> [len(y) for _, y in batches]
    [2, 2, 1]
    """

    def __init__(self, X, y, batch_size, device, shuffle=True, indices=None, views=False,
                 epoch_transform=None):
        self.X = torch.as_tensor(X, device=device)
        self.y = torch.as_tensor(y, device=device)
        n = self.y.shape[1] if views else len(self.y)
        self.indices = (torch.arange(n, device=device) if indices is None
                        else torch.as_tensor(np.asarray(indices), dtype=torch.long, device=device))
        self.batch_size = min(batch_size, len(self.indices)) if epoch_transform else batch_size
        self.shuffle = shuffle
        self.views = views
        self.epoch_transform = epoch_transform

    def __len__(self):
        if self.epoch_transform is not None:
            return len(self.indices) // self.batch_size
        return -(-len(self.indices) // self.batch_size)

    def __iter__(self):
        n, device = len(self.indices), self.indices.device
        order = self.indices[torch.randperm(n, device=device) if self.shuffle
                             else torch.arange(n, device=device)]
        if self.epoch_transform is not None:
            order = order[:len(self) * self.batch_size]
        copy = torch.randint(len(self.X), (len(order),), device=device) if self.views else None
        images = None
        if self.epoch_transform is not None:
            images = self.epoch_transform(self._images(order, copy))
        for start in range(0, len(order), self.batch_size):
            stop = start + self.batch_size
            index = order[start:stop]
            which = None if copy is None else copy[start:stop]
            x = images[start:stop] if images is not None else self._images(index, which)
            y = self.y[index] if which is None else self.y[which, index]
            yield x, y

    def _images(self, index, copy):
        """The images of the samples ``index`` (from the copies ``copy``), as float32."""
        return (self.X[index] if copy is None else self.X[copy, index]).float()

"""Resolving ``device="auto"`` around the skorch methods that use the device."""

import functools

import torch


def resolve_device(device):
    """Return ``"cuda"`` for ``"auto"`` where CUDA is available, else ``"cpu"``; others as given.

    Parameters
    ----------
    device : str or torch.device
        A classifier's ``device`` parameter.

    Returns
    -------
    device : str or torch.device
        The device to run on.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def on_resolved_device(method):
    """Run ``method`` with ``self.device`` resolved, restoring the parameter afterwards.

    skorch reads ``self.device`` wherever it moves tensors; the estimator keeps
    the user's ``"auto"`` as its parameter (so that ``clone`` and
    ``get_params`` see it untouched) and resolves it only while it works.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        requested = self.device
        if requested != "auto":
            return method(self, *args, **kwargs)
        self.device = resolve_device(requested)
        try:
            return method(self, *args, **kwargs)
        finally:
            self.device = requested

    return wrapper

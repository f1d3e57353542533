"""Batch norm folded into the convolution before it, for prediction."""

import copy

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fold_batch_norm(module):
    """A copy of ``module`` in eval mode, each ``Conv2d`` and the ``BatchNorm2d`` after it fused.

    In eval mode batch norm is an affine map per channel, so it folds exactly
    into the weights and bias of the convolution before it (up to float
    rounding). Works on any module whose convolutions and batch norms sit next
    to each other in an ``nn.Sequential`` (:class:`EmotionCNN`, :class:`EnsembleCNN`).

    Parameters
    ----------
    module : torch.nn.Module
        The network; it is not changed.

    Returns
    -------
    folded : torch.nn.Module
        The copy, in eval mode.

    Examples
    --------
    >>> import torch
    >>> from fer_sklearn import EmotionCNN
    >>> from fer_sklearn.neural_net._folding import fold_batch_norm
    >>> net = EmotionCNN(width=4, depth=2).eval()
    >>> folded = fold_batch_norm(net)
    >>> any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    False
    >>> x = torch.randn(2, 1, 24, 24)
    >>> torch.allclose(net(x), folded(x), atol=1e-5)
    True
    """
    module = copy.deepcopy(module).eval()
    for sequential in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        layers = list(sequential)
        fused, i = [], 0
        while i < len(layers):
            conv = layers[i]
            if (isinstance(conv, nn.Conv2d) and i + 1 < len(layers)
                    and isinstance(layers[i + 1], nn.BatchNorm2d)):
                fused.append(fuse_conv_bn_eval(conv, layers[i + 1]))
                i += 2
            else:
                fused.append(conv)
                i += 1
        if len(fused) < len(layers):
            sequential._modules.clear()
            for j, layer in enumerate(fused):
                sequential.add_module(str(j), layer)
    return module

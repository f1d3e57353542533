"""The convolutional network: VGG-style blocks and a fully connected head."""

import inspect

import torch
from torch import nn


def conv_bn_act(in_channels, out_channels, act_layer=nn.ReLU):
    """A 3x3 convolution (no bias: batch norm follows), batch norm and the activation."""
    return [nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), act_layer(inplace=True)]


class ResidualPair(nn.Module):
    """Two 3x3 convolutions with batch norm, added to a shortcut: ResNet's basic block.

    The shortcut is the input itself, or a 1x1 convolution with batch norm where the
    width changes; the activation follows the sum.

    Parameters
    ----------
    in_channels : int
        Channels of the input.
    out_channels : int
        Channels of both convolutions and of the output.
    act_layer : type, default=nn.ReLU
        The activation layer class.
    """

    def __init__(self, in_channels, out_channels, act_layer=nn.ReLU):
        super().__init__()
        self.body = nn.Sequential(*conv_bn_act(in_channels, out_channels, act_layer),
                                  nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(out_channels))
        self.shortcut = nn.Identity() if in_channels == out_channels else nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels))
        self.act = act_layer(inplace=True)

    def forward(self, x):
        """Compute ``act(body(x) + shortcut(x))``.

        Parameters
        ----------
        x : Tensor of shape (n, in_channels, height, width)
            The input.

        Returns
        -------
        y : Tensor of shape (n, out_channels, height, width)
            The output.
        """
        return self.act(self.body(x) + self.shortcut(x))


def conv_block(in_channels, out_channels, n_convs, *, act_layer=nn.ReLU, dropout=0.0,
               residual=False, stem=False):
    """``n_convs`` 3x3 convolutions with batch norm and activation, then 2x2 max pooling.

    With ``residual``, the convolutions come in ``ResidualPair`` s, after a first
    convolution to ``out_channels`` where ``stem`` is set (the network's first block).
    """
    layers = []
    if residual:
        if stem:
            layers += conv_bn_act(in_channels, out_channels, act_layer)
            in_channels = out_channels
        layers += [ResidualPair(in_channels if i == 0 else out_channels, out_channels, act_layer)
                   for i in range(n_convs // 2)]
    else:
        for i in range(n_convs):
            layers += conv_bn_act(in_channels if i == 0 else out_channels, out_channels,
                                  act_layer)
    # ceil_mode keeps odd and tiny feature maps (down to 1x1) alive
    layers.append(nn.MaxPool2d(2, ceil_mode=True))
    layers.append(nn.Dropout2d(dropout) if dropout > 0 else nn.Identity())
    return nn.Sequential(*layers)


class EmotionCNN(nn.Module):
    """A VGG-style CNN for small grayscale face images.

    ``depth`` blocks of ``convs_per_block`` x (convolution, batch norm, ReLU)
    followed by max pooling, the block widths doubling from ``width``; then
    adaptive average pooling to ``pool_size`` x ``pool_size`` and a fully
    connected head with dropout. Works for any input size, since the pooling is
    adaptive. With ``residual=True`` the blocks are ResNet's stages instead.

    Parameters
    ----------
    n_classes : int, default=7
        Number of output logits.
    in_channels : int, default=1
        Channels of the input images.
    width : int, default=32
        Channels of the first block.
    depth : int, default=4
        Number of convolution blocks.
    convs_per_block : int, default=2
        Convolutions in each block.
    hidden_units : int, default=256
        Width of the hidden fully connected layer (0 for a linear head).
    dropout : float, default=0.4
        Dropout before each fully connected layer.
    block_dropout : float, default=0.0
        Channel dropout after each convolution block.
    act_layer : type, default=nn.ReLU
        The activation layer class.
    pool_size : int, default=1
        Side of the pooled feature map fed to the head: 1 is global average
        pooling; 3 keeps a 3x3 grid of where on the face each feature fired.
    residual : bool, default=False
        Make each block's convolutions pairs added to a shortcut
        (ResNet's basic block), after one first convolution
        to ``width`` (the stem); ``convs_per_block`` must then be even. With
        ``depth=4, convs_per_block=4, hidden_units=0`` it is ResNet-18's layout
        for small faces: a stride-1 stem without pooling (so that the first stage
        sees a 48-pixel face at full resolution), and max pooling between the
        stages where ResNet strides its convolutions.

    Examples
    --------
    >>> import torch
    >>> from fer_sklearn import EmotionCNN
    >>> EmotionCNN(width=8, depth=2)(torch.zeros(2, 1, 48, 48)).shape
    torch.Size([2, 7])
    """

    def __init__(
        self,
        n_classes=7,
        in_channels=1,
        width=32,
        depth=4,
        convs_per_block=2,
        hidden_units=256,
        dropout=0.4,
        block_dropout=0.0,
        act_layer=nn.ReLU,
        pool_size=1,
        residual=False,
    ):
        super().__init__()
        self.config = dict(n_classes=n_classes, in_channels=in_channels, width=width, depth=depth,
                           convs_per_block=convs_per_block, hidden_units=hidden_units,
                           dropout=dropout, block_dropout=block_dropout, act_layer=act_layer,
                           pool_size=pool_size, residual=residual)
        for name, value, low in [
            ("n_classes", n_classes, 1), ("in_channels", in_channels, 1), ("width", width, 1),
            ("depth", depth, 1), ("convs_per_block", convs_per_block, 1),
            ("hidden_units", hidden_units, 0), ("pool_size", pool_size, 1),
        ]:
            if int(value) != value or value < low:
                raise ValueError(f"EmotionCNN: {name} must be an integer >= {low}, got {value!r}")
        for name, value in [("dropout", dropout), ("block_dropout", block_dropout)]:
            if not 0.0 <= value < 1.0:
                raise ValueError(f"EmotionCNN: {name} must be in [0, 1), got {value!r}")
        if residual and convs_per_block % 2:
            raise ValueError("EmotionCNN: convs_per_block must be even with residual=True (the "
                             f"convolutions come in pairs), got {convs_per_block!r}")
        blocks, channels = [], in_channels
        for i in range(depth):
            out = width * 2**i
            blocks.append(conv_block(channels, out, convs_per_block, act_layer=act_layer,
                                     dropout=block_dropout, residual=residual, stem=i == 0))
            channels = out
        self.features = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        channels *= pool_size * pool_size
        if hidden_units:
            self.head = nn.Sequential(
                nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels, hidden_units),
                act_layer(inplace=True), nn.Dropout(dropout), nn.Linear(hidden_units, n_classes),
            )
        else:
            self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout),
                                      nn.Linear(channels, n_classes))

    __str__ = nn.Module.__repr__  # print(network): PyTorch's tree of layers

    def __repr__(self):
        """One line: the arguments that differ from the defaults, and the size.

        A repr nested in an estimator's (``EmotionClassifier(module=...)``)
        stays readable; ``print(network)`` shows PyTorch's tree of layers.
        """
        defaults = {name: p.default for name, p in inspect.signature(EmotionCNN).parameters.items()}
        changed = [f"{name}={getattr(value, '__name__', value)!s}" if name == "act_layer"
                   else f"{name}={value!r}"
                   for name, value in self.config.items() if value != defaults[name]]
        size = sum(p.numel() for p in self.parameters()) / 1e6
        return f"EmotionCNN({', '.join(changed)}{'; ' if changed else ''}{size:.2f} M parameters)"

    def forward_features(self, x):
        """Compute the pooled features of each image.

        Parameters
        ----------
        x : Tensor of shape (n, in_channels, height, width)
            The images.

        Returns
        -------
        features : Tensor of shape (n, channels, pool_size, pool_size)
            The features the head classifies.
        """
        return self.pool(self.features(x))

    @torch.no_grad()
    def reorder_classes(self, order):
        """Put the output units in ``order``, in place: unit ``i`` becomes the old ``order[i]``.

        The logits of each class are computed exactly as before, in another column;
        a model's classes are put in another order this way (its ``classes_`` too).

        Parameters
        ----------
        order : sequence of int
            A permutation of ``range(n_classes)``.

        Returns
        -------
        self : EmotionCNN
            The network.
        """
        last = self.head[-1]
        index = torch.as_tensor(list(order), device=last.weight.device)
        last.weight.copy_(last.weight[index])
        last.bias.copy_(last.bias[index])
        return self

    def forward_head(self, features):
        """Compute the logits from the pooled features.

        Parameters
        ----------
        features : Tensor of shape (n, channels, pool_size, pool_size)
            What :meth:`forward_features` returns.

        Returns
        -------
        logits : Tensor of shape (n, n_classes)
            One score per class.
        """
        return self.head(features)

    def forward(self, x):
        """Compute the logits of images.

        Parameters
        ----------
        x : Tensor of shape (n, in_channels, height, width)
            The images.

        Returns
        -------
        logits : Tensor of shape (n, n_classes)
            One score per class.
        """
        return self.forward_head(self.forward_features(x))


class EnsembleCNN(nn.Module):
    """Average the logits of several networks (e.g. :class:`EmotionCNN` of different widths).

    Parameters
    ----------
    members : list of torch.nn.Module
        Networks with the same input and number of outputs.

    Examples
    --------
    >>> import torch
    >>> from fer_sklearn import EmotionCNN
    >>> from fer_sklearn.neural_net._cnn import EnsembleCNN
    >>> net = EnsembleCNN([EmotionCNN(width=4, depth=2), EmotionCNN(width=8, depth=2)])
    >>> net(torch.zeros(3, 1, 48, 48)).shape
    torch.Size([3, 7])
    """

    def __init__(self, members):
        super().__init__()
        if not members:
            raise ValueError("EnsembleCNN needs at least one member network")
        self.members = nn.ModuleList(members)

    __str__ = nn.Module.__repr__

    def __repr__(self):
        """One line: the members' own one-line reprs."""
        return f"EnsembleCNN([{', '.join(repr(m) for m in self.members)}])"

    def reorder_classes(self, order):
        """Put every member's output units in ``order``, in place.

        As :meth:`EmotionCNN.reorder_classes` does for one network.

        Parameters
        ----------
        order : sequence of int
            A permutation of ``range(n_classes)``.

        Returns
        -------
        self : EnsembleCNN
            The network.
        """
        for member in self.members:
            member.reorder_classes(order)
        return self

    def forward(self, x):
        """Compute the mean of the members' logits.

        Parameters
        ----------
        x : Tensor of shape (n, in_channels, height, width)
            The images.

        Returns
        -------
        logits : Tensor of shape (n, n_classes)
            The members' mean.
        """
        logits = [member(x) for member in self.members]
        return sum(logits) / len(logits)

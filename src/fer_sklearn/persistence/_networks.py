"""Networks given as instances (e.g. a shipped model's ``module``): their constructor kwargs.

An :class:`EmotionCNN` does not keep the arguments it was built with, so they are
read back from its layers and checked by building the network again (on
PyTorch's ``meta`` device: no memory) and comparing the two layer by layer.
"""

import torch
from torch import nn

from ..neural_net import EmotionCNN
from ..neural_net._cnn import EnsembleCNN
from ._values import (
    ModelFileError, construct, decode_params, encode, expect, expect_keys, init_params,
    lookup, name_of, refuse,
)


def emotion_cnn_kwargs(network):
    """The ``EmotionCNN(**kwargs)`` that builds a network of the same layers as ``network``."""
    first = network.features[0]
    convs = [layer for layer in first if isinstance(layer, nn.Conv2d)]
    linears = [layer for layer in network.head if isinstance(layer, nn.Linear)]
    dropouts = [layer for layer in network.head if isinstance(layer, nn.Dropout)]
    pool = network.pool.output_size
    return {
        "n_classes": linears[-1].out_features,
        "in_channels": convs[0].in_channels,
        "width": convs[0].out_channels,
        "depth": len(network.features),
        "convs_per_block": len(convs),
        "hidden_units": linears[0].out_features if len(linears) == 2 else 0,
        "dropout": float(dropouts[0].p),
        "block_dropout": float(first[-1].p) if isinstance(first[-1], nn.Dropout2d) else 0.0,
        "act_layer": type(first[2]),
        "pool_size": int(pool if isinstance(pool, int) else pool[0]),
    }


def encode_network(network, where):
    """``{"$module": ...}`` for an EmotionCNN or EnsembleCNN instance; refuse anything else."""
    if type(network) is EnsembleCNN:
        return {"$module": name_of(EnsembleCNN),
                "members": [encode_network(m, f"{where}.members[{i}]")
                            for i, m in enumerate(network.members)]}
    if type(network) is not EmotionCNN:
        raise refuse(where, network, "it is neither a plain value nor one of the library's "
                                     "networks (EmotionCNN, EnsembleCNN)")
    try:
        kwargs = emotion_cnn_kwargs(network)
        with torch.device("meta"):
            same = str(EmotionCNN(**kwargs)) == str(network)
    except (AttributeError, IndexError, TypeError, ValueError):
        same = False
    if not same:
        raise refuse(where, network, "its layers were changed after it was built")
    return {"$module": name_of(EmotionCNN),
            "kwargs": {k: encode(v, f"{where}.{k}") for k, v in kwargs.items()}}


def decode_network(data, where):
    """The network of ``{"$module": ...}`` (built on the current default device)."""
    cls = lookup(data.get("$module"), where)
    if cls is EnsembleCNN:
        expect_keys(data, ["$module", "members"], where)
        members = expect(data["members"], list, f"{where}.members")
        if not members:
            raise ModelFileError(f"{where}.members: an ensemble needs at least one member")
        return EnsembleCNN([decode_network(expect(m, dict, f"{where}.members[{i}]"),
                                           f"{where}.members[{i}]")
                            for i, m in enumerate(members)])
    if cls is not EmotionCNN:
        raise ModelFileError(f"{where}: {data['$module']} is not a network")
    expect_keys(data, ["$module", "kwargs"], where)
    kwargs = decode_params(data["kwargs"], f"{where}.kwargs", names=init_params(EmotionCNN))
    return construct(EmotionCNN, kwargs, where)

"""Several trained networks packed into few fp16 safetensors files, and read back.

A GPU run may return only a few files of limited size: :func:`pack_networks`
writes networks into as few files as the size limit allows (fp16 weights, each
network's settings and scores as JSON in the header), :func:`read_packed`
gives back their classifiers. No pickle either way.
"""

import json
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..neural_net import EmotionClassifier, EmotionCNN
from ..utils import atomic_write

PACK_KEY = "fer_sklearn_pack"


def _state(clf):
    return {k: (v.half() if v.is_floating_point() else v).detach().cpu().contiguous()
            for k, v in clf.module_.state_dict().items()}


def pack_networks(classifiers, stem, *, info=None, max_bytes=15 * 2**20):
    """Write fitted classifiers into ``<stem>-<i>.safetensors`` files of at most ``max_bytes``.

    Parameters
    ----------
    classifiers : dict of str to fitted EmotionClassifier
        The networks (:class:`~fer_sklearn.EmotionCNN`), by name; in that order.
    stem : path
        The files' path without the ``-<i>.safetensors`` ending.
    info : dict of str to dict, default=None
        JSON-able settings and scores of each network, kept beside its weights.
    max_bytes : int, default=15 MiB
        Largest file; a network larger than this gets a file of its own.

    Returns
    -------
    paths : list of Path
        The files written.
    """
    groups, size = [[]], 0
    for name, clf in classifiers.items():
        n_bytes = sum(v.numel() * v.element_size() for v in _state(clf).values())
        if groups[-1] and size + n_bytes > max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(name)
        size += n_bytes
    paths = []
    for i, names in enumerate(groups, 1):
        tensors, header = {}, {}
        for name in names:
            clf = classifiers[name]
            tensors.update({f"{name}/{k}": v for k, v in _state(clf).items()})
            module = {k: v for k, v in clf.module_.config.items() if k != "act_layer"}
            header[name] = {"module": module, "classes": np.asarray(clf.classes_).tolist(),
                            "image_shape": list(clf.image_shape_), **(info or {}).get(name, {})}
        path = Path(f"{stem}-{i}.safetensors")
        with atomic_write(path) as partial:
            save_file(tensors, partial, metadata={PACK_KEY: json.dumps(header)})
        paths.append(path)
    return paths


def read_packed(paths, device="cpu"):
    """The networks of :func:`pack_networks` files, as fitted float32 classifiers.

    Parameters
    ----------
    paths : list of path
        Files written by :func:`pack_networks`.
    device : str, default="cpu"
        Where the classifiers run.

    Returns
    -------
    networks : dict of str to (EmotionClassifier, dict)
        Each network's classifier and its header entry (settings and scores).
    """
    networks = {}
    for path in paths:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            if PACK_KEY not in metadata:
                raise ValueError(f"{path} is not a file of pack_networks (no {PACK_KEY} header)")
            header = json.loads(metadata[PACK_KEY])
            for name, entry in header.items():
                state = {k.split("/", 1)[1]: f.get_tensor(k) for k in f.keys()
                         if k.startswith(name + "/")}
                clf = EmotionClassifier(
                    module=EmotionCNN, classes=np.asarray(entry["classes"]), device=device,
                    **{f"module__{k}": v for k, v in entry["module"].items()})
                clf.initialize_fitted(tuple(entry["image_shape"]))
                clf.module_.load_state_dict({k: v.float() if v.is_floating_point() else v
                                             for k, v in state.items()})
                networks[name] = (clf, entry)
    return networks

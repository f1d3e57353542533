"""The tensors of a model's safetensors files, checked against what its description expects."""

import hashlib

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from ._values import ModelFileError

FORMAT = 2
"""The version of the model files that :func:`~fer_sklearn.save_model` writes."""
METADATA_KEY = "fer_sklearn"
_FLOATS = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32}


def tensors_sha256(tensors):
    """The sha256 of a model's weights: its tensors as stored, independent of the file's header.

    For each tensor in the order of their names (sorted): the name, its dtype
    (``"float16"``...) and its shape (``"3,3"``, empty for a scalar), each
    followed by a NUL byte, then its bytes in row-major, little-endian order.
    The header that holds the description (and this hash) is not part of it.

    Parameters
    ----------
    tensors : dict of str to torch.Tensor
        The tensors by name, as stored in the file.

    Returns
    -------
    digest : str
        The hex digest.
    """
    digest = hashlib.sha256()
    for name in sorted(tensors):
        value = tensors[name].detach().cpu().contiguous()
        shape = ",".join(str(n) for n in value.shape)
        dtype = str(value.dtype).removeprefix("torch.")
        digest.update(f"{name}\0{dtype}\0{shape}\0".encode())
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


class SafetensorsSource:
    """The tensors of safetensors files, checked against what a model expects.

    Parameters
    ----------
    path : path
        A safetensors file, or None to add files with :meth:`add`.
    """

    def __init__(self, path=None):
        self.infos, self.metadata, self._where, self._loaded = {}, {}, {}, {}
        if path is not None:
            self.metadata = self.add(path)

    def add(self, path):
        """Index the tensors of ``path``; return its metadata."""
        try:
            with safe_open(path, "pt") as file:
                for key in file.keys():
                    info = file.get_slice(key)
                    self.infos[key] = (info.get_dtype(), tuple(info.get_shape()))
                    self._where[key] = (path, key)
                return file.metadata() or {}
        except (SafetensorError, OSError) as exc:
            if _looks_pickled(path):
                raise ModelFileError(
                    f"{path} looks like a joblib or pickle file, not a file of save_model: open "
                    "it with joblib.load(path), and only if you trust where it came from "
                    "(unpickling runs code from the file)") from None
            raise ModelFileError(f"{path} is truncated or not a safetensors file ({exc})") from None

    def check(self, expected):
        """Compare the file's tensors with ``{name: (shape, dtype)}`` (None: any size)."""
        missing = sorted(set(expected) - set(self.infos))
        if missing:
            raise ModelFileError(f"missing tensor {missing[0]!r} ({len(missing)} missing)")
        unexpected = sorted(set(self.infos) - set(expected))
        if unexpected:
            raise ModelFileError(f"unexpected tensor {unexpected[0]!r}: the file holds tensors "
                                 "its description does not")
        for name, (shape, dtype) in expected.items():
            found_dtype, found_shape = self.infos[name]
            allowed = sorted(_FLOATS) if dtype.is_floating_point else ["I64"]
            if found_dtype not in allowed:
                raise ModelFileError(f"tensor {name!r} has dtype {found_dtype}, expected "
                                     f"{' or '.join(allowed)}")
            if len(found_shape) != len(shape) or any(
                    want is not None and want != got for want, got in zip(shape, found_shape)):
                raise ModelFileError(f"tensor {name!r} has shape {found_shape}, expected "
                                     f"{tuple('n' if s is None else s for s in shape)}")
            if 0 in found_shape:
                raise ModelFileError(f"tensor {name!r} is empty")

    def _tensors(self, path):
        if path not in self._loaded:
            try:
                self._loaded[path] = load_file(path)
            except (SafetensorError, OSError) as exc:
                raise ModelFileError(f"{path}: cannot read its tensors ({exc})") from None
        return self._loaded[path]

    def sha256(self):
        """:func:`tensors_sha256` of every tensor, as stored (before any cast)."""
        return tensors_sha256({name: self._tensors(path)[key]
                               for name, (path, key) in self._where.items()})

    def tensor(self, name, dtype):
        """The tensor ``name`` in ``dtype`` (e.g. fp16 as stored to the network's float32),
        checked to be finite."""
        path, key = self._where[name]
        value = self._tensors(path)[key]
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise ModelFileError(f"tensor {name!r} holds NaN or infinite values")
        return value.to(dtype)


_COMPRESSED = (b"\x1f\x8b", b"\xfd7zXZ", b"BZh", b"\x5d\x00\x00")
"""How joblib's files compressed with gzip, xz, bz2 and lzma start (zlib: see below)."""


def _looks_pickled(path):
    """Whether ``path`` starts as a pickle (protocol 2+) or a compressed joblib file does.

    A safetensors file starts with the 8-byte length of its header, then ``{``: a
    length whose first bytes read like a pickle's must not make it one.
    """
    try:
        with open(path, "rb") as file:
            head = file.read(9)
    except OSError:
        return False
    if len(head) == 9 and head[8:9] == b"{":
        return False
    pickle = (len(head) >= 3 and head[0] == 0x80 and head[1] in (2, 3, 4, 5)
              and (head[2] == 0x95 if head[1] >= 4 else head[2] != 0))
    zlib = len(head) >= 2 and head[0] == 0x78 and head[1] in (0x01, 0x5E, 0x9C, 0xDA)
    return pickle or zlib or head.startswith(_COMPRESSED)

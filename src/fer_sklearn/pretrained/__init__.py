"""The models that ship inside the package (one safetensors file each, no pickle, no download)."""

from ._pretrained import (
    WEIGHTS_DIR,
    available_models,
    export_pretrained,
    load_pretrained,
    resolve_model,
)

__all__ = ["WEIGHTS_DIR", "available_models", "export_pretrained", "load_pretrained",
           "resolve_model"]

"""The models that ship inside the package (safetensors + JSON, no pickle, no download)."""

from ._pretrained import WEIGHTS_DIR, available_models, export_pretrained, load_pretrained

__all__ = ["WEIGHTS_DIR", "available_models", "export_pretrained", "load_pretrained"]

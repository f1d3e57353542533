"""The models that ship inside the package (safetensors + JSON, no pickle, no download)."""

from .._registry import register_shipped_models
from ._pretrained import WEIGHTS_DIR, available_models, export_pretrained, load_pretrained

# EmotionRecognizer(model="fast") and the CLI's --pretrained find the shipped models here
register_shipped_models(available_models, load_pretrained)

__all__ = ["WEIGHTS_DIR", "available_models", "export_pretrained", "load_pretrained"]

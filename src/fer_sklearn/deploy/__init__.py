"""Deployment: a fitted pipeline as one ONNX file (preprocessing included), or predicting in int8."""

from ._onnx import export_onnx
from ..neural_net import quantize

__all__ = ["export_onnx", "quantize"]

"""Deployment: a fitted pipeline as one ONNX file (preprocessing included), or predicting in
int8."""

from ..neural_net import quantize
from ._onnx import export_onnx

__all__ = ["export_onnx", "quantize"]

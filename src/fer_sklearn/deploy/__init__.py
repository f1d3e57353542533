"""Deployment formats: a fitted pipeline as one ONNX file, preprocessing included."""

from ._onnx import export_onnx

__all__ = ["export_onnx"]

"""Builder: MediaPipe face-mesh / iris .tflite files -> ONNX, run once at prepare time.

tflite2onnx reads the TFLite flatbuffer directly (no TensorFlow) and emits an NCHW float32
graph; onnxruntime on the result agrees with the TFLite interpreter to ~1e-4 px. The model
store calls ``build_onnx(source_path, out_path)`` for the catalog entries that name it.
"""
from __future__ import annotations

from pathlib import Path

import onnx
import tflite2onnx


def build_onnx(source_path: Path, out_path: Path) -> None:
    """Convert ``source_path`` (.tflite, fp32) to ``out_path`` (.onnx) and check the result.

    The model store writes ``out_path`` in a scratch folder and moves it into the cache only
    when this returns, so a conversion that fails its check never becomes a cached model.
    """
    tflite2onnx.convert(str(source_path), str(out_path))
    _check_converted(Path(out_path))


def _check_converted(path: Path) -> None:
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    inputs = model.graph.input
    if len(inputs) != 1:
        raise ValueError(f"{path.name}: expected one input, got {len(inputs)}")
    # An fp16 .tflite would convert to a graph with half-precision weights or inputs;
    # the landmark code feeds float32, so refuse anything else here, not at run time.
    if inputs[0].type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
        raise ValueError(f"{path.name}: input is not float32")

"""Builder: MediaPipe face-mesh / iris .tflite files -> ONNX, run once at prepare time.

tflite2onnx reads the TFLite flatbuffer directly (no TensorFlow) and emits an NCHW float32
graph; onnxruntime on the result agrees with the TFLite interpreter to ~1e-4 px. Its PRelu
nodes are then rewritten as Relu arithmetic (onnx_rewrite.prelu_as_relu: the same function,
2-3x faster). The model store calls ``build_onnx(source_path, out_path)`` for the catalog
entries that name it.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import onnx
import tflite2onnx

from shared.engine.onnx_rewrite import check_same_function, prelu_as_relu


def build_onnx(source_path: Path, out_path: Path) -> None:
    """Convert ``source_path`` (.tflite, fp32) to ``out_path`` (.onnx) and check the result.

    The model store writes ``out_path`` in a scratch folder and moves it into the cache only
    when this returns, so a conversion that fails its check never becomes a cached model.
    """
    converted = convert_tflite(source_path, out_path)
    check_converted(converted, Path(out_path).name)
    fast = onnx.ModelProto()
    fast.CopyFrom(converted)
    prelu_as_relu(fast)
    onnx.checker.check_model(fast)
    check_same_function(converted, fast, low=0.0, high=1.0)  # both graphs take RGB in [0, 1]
    onnx.save(fast, str(out_path))


@contextlib.contextmanager
def quiet_logger(name: str | None) -> Iterator[None]:
    """Only errors from logger ``name`` (None: the root logger) for the duration."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def convert_tflite(source_path: Path, out_path: Path) -> onnx.ModelProto:
    """tflite2onnx's graph, with its initializers and value infos in name order.

    tflite2onnx collects both in Python sets, so their order (and the file's bytes) changed
    with the interpreter's string hashing from one run to the next; sorted, the same source
    always builds the same bytes. Its per-tensor warnings (fp16 "not tested", Reshape shapes)
    are silenced: the checks after each conversion decide whether the result is usable.
    """
    with quiet_logger("tflite2onnx"):
        tflite2onnx.convert(str(source_path), str(out_path))
    model = onnx.load(str(out_path))
    for field in (model.graph.initializer, model.graph.value_info):
        ordered = sorted(field, key=lambda entry: entry.name)
        del field[:]
        field.extend(ordered)
    return model


def check_converted(model: onnx.ModelProto, name: str) -> None:
    onnx.checker.check_model(model)
    inputs = model.graph.input
    if len(inputs) != 1:
        raise ValueError(f"{name}: expected one input, got {len(inputs)}")
    # An fp16 .tflite would convert to a graph with half-precision weights or inputs;
    # the landmark code feeds float32, so refuse anything else here, not at run time.
    if inputs[0].type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
        raise ValueError(f"{name}: input is not float32")

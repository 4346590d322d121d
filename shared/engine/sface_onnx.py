"""Builder: OpenCV Zoo's SFace ONNX file -> the graph the engine runs, at prepare time.

The published file (catalog model "sface_2021dec_source") is an IR 6 / opset 11 export that
lists all 174 weights as graph inputs, has a fixed batch of one and 27 PRelu activations.
The derived "sface_2021dec" model is the same function with the weights as plain
initializers (so onnxruntime folds BatchNormalization into the convolutions), a dynamic batch
(the faces of one image in one run), opset 13 (needed by per-channel quantisation) and the
PRelu nodes rewritten as Relu arithmetic, each slope moved into the convolution after it
(onnx_rewrite.prelu_into_next_convs; the last PRelu, before a BatchNormalization, keeps the
slope). Measured in docs/recognition.md (section 5).

Input ``data`` float32 [N, 3, 112, 112]: RGB 0..255 (the graph subtracts 127.5 and scales
itself). Output ``fc1`` float32 [N, 128], not normalised.
"""
from __future__ import annotations

from pathlib import Path

import onnx

from shared.engine import onnx_rewrite

OPSET = 13


def build_onnx(source_path: Path, out_path: Path) -> None:
    original = onnx.load(str(source_path))
    model = onnx.ModelProto()
    model.CopyFrom(original)
    onnx_rewrite.strip_initializer_inputs(model)
    onnx_rewrite.dynamic_batch(model)
    model = onnx_rewrite.upgrade_opset(model, OPSET)
    onnx_rewrite.prelu_into_next_convs(model)
    onnx_rewrite.prelu_as_relu(model)
    onnx.checker.check_model(model)
    onnx_rewrite.check_same_function(original, model, low=0.0, high=255.0, batch=2)
    onnx.save(model, str(out_path))

"""Exact graph rewrites that make third-party ONNX files run fast under onnxruntime.

Used by the builders of derived catalog models (mediapipe_onnx.py, sface_onnx.py) at prepare
time; none of them changes what a model computes beyond float rounding (~1e-6), and each
builder checks that on a test input before its output is cached.

* ``strip_initializer_inputs``: exporters of the IR 3 era list every weight as a graph input
  too. onnxruntime must then treat the weights as overridable and will not constant-fold
  them (BatchNormalization into Conv, for one).
* ``dynamic_batch``: a fixed batch dimension of 1 makes every face its own run.
* ``prelu_as_relu``: onnxruntime's PRelu with a per-channel slope is a slow broadcast kernel
  that also breaks its NCHWc convolution layout: in the face mesh, iris and SFace models it
  took more time than all convolutions together. ``PRelu(x, s) = s*x + (1-s)*Relu(x)``
  is the same function (the slope may be any sign and size) built from ops that onnxruntime
  fuses into its convolution kernels: 2-3x faster models (docs/recognition.md, section 5).
* ``prelu_into_next_convs``: where a PRelu only feeds convolutions, one elementwise pass
  fewer: ``conv(PRelu(x, s)) = conv_s(x + k*Relu(x))`` with ``k = (1-s)/s`` and ``conv_s`` the
  convolution with its weights multiplied by ``s`` per input channel (SFace: 13.3 -> 11.9 ms).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import onnx
from onnx import helper, numpy_helper, version_converter


def strip_initializer_inputs(model: onnx.ModelProto) -> None:
    graph = model.graph
    weights = {initializer.name for initializer in graph.initializer}
    inputs = [value for value in graph.input if value.name not in weights]
    del graph.input[:]
    graph.input.extend(inputs)


def dynamic_batch(model: onnx.ModelProto, name: str = "N") -> None:
    """Let the first dimension of every input and output vary; drop stale inferred shapes."""
    for value in [*model.graph.input, *model.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_param = name
    del model.graph.value_info[:]


def upgrade_opset(model: onnx.ModelProto, opset: int) -> onnx.ModelProto:
    """A copy at ``opset`` (per-channel quantisation needs 13) when the model is older."""
    current = next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))
    return version_converter.convert_version(model, opset) if current < opset else model


def prelu_as_relu(model: onnx.ModelProto) -> None:
    """Replace every PRelu whose slope is a constant by ``s*x + (1-s)*Relu(x)``."""
    graph = model.graph
    constants = {initializer.name: initializer for initializer in graph.initializer}
    ranks = _ranks(model)
    nodes: list[onnx.NodeProto] = []
    used: set[str] = set()
    for node in graph.node:
        if node.op_type != "PRelu" or node.input[1] not in constants:
            nodes.append(node)
            continue
        x, slope_name = node.input
        (y,) = node.output
        # Mul broadcasts the slope as PRelu does; leading 1s up to x's rank change nothing
        # but let onnxruntime see a per-channel constant it can fuse ((C,1,1) it does not).
        slope = numpy_helper.to_array(constants[slope_name]).astype(np.float32)
        if x in ranks and ranks[x] > slope.ndim:
            slope = slope.reshape((1,) * (ranks[x] - slope.ndim) + slope.shape)
        keep = numpy_helper.from_array(slope, f"{y}/slope")
        mix = numpy_helper.from_array(1.0 - slope, f"{y}/one_minus_slope")
        graph.initializer.extend([keep, mix])
        nodes += [
            helper.make_node("Relu", [x], [f"{y}/relu"], name=f"{y}/Relu"),
            helper.make_node("Mul", [x, keep.name], [f"{y}/linear"], name=f"{y}/MulLinear"),
            helper.make_node("Mul", [f"{y}/relu", mix.name], [f"{y}/positive"], name=f"{y}/MulPositive"),
            helper.make_node("Add", [f"{y}/linear", f"{y}/positive"], [y], name=f"{y}/Add"),
        ]
    for node in nodes:
        used.update(node.input)
    del graph.node[:]
    graph.node.extend(nodes)
    _drop_unused_initializers(graph, used)


# A slope this close to 0 would make k = (1-s)/s overflow the activations it scales: such a
# PRelu is left to ``prelu_as_relu``. (SFace's smallest is 2.7e-6.)
MIN_FOLDED_SLOPE = 1e-12


def prelu_into_next_convs(model: onnx.ModelProto) -> None:
    """Rewrite every PRelu with a constant per-channel slope whose output only feeds
    convolutions (as their data input) as ``z = x + k*Relu(x)``, and scale those convolutions'
    weights by the slope per input channel, so that they compute what they did.

    ``s*z`` is PRelu(x) (x > 0: ``s*x*(1 + k) = x``; else ``s*x``), and a convolution is linear
    in each input channel, its zero padding included. onnxruntime runs ``z`` in two passes
    (Relu, and the Mul+Add fused into one kernel) where ``prelu_as_relu``'s form takes three.
    Every factor is a product or quotient, never a difference of large terms, so the outputs
    move by float32 rounding only."""
    graph = model.graph
    constants = {initializer.name: initializer for initializer in graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    graph_outputs = {value.name for value in graph.output}
    ranks = _ranks(model)
    nodes: list[onnx.NodeProto] = []
    for node in graph.node:
        convs = consumers[node.output[0]] if node.op_type == "PRelu" else []
        slope = _foldable_slope(node, convs, constants, graph_outputs, ranks)
        nodes += [node] if slope is None else _fold_prelu(graph, node, convs, constants, slope, ranks)
    used = {name for node in nodes for name in node.input}
    del graph.node[:]
    graph.node.extend(nodes)
    _drop_unused_initializers(graph, used)


def _foldable_slope(node: onnx.NodeProto, convs: list[onnx.NodeProto], constants: dict[str, onnx.TensorProto],
                    graph_outputs: set[str], ranks: dict[str, int]) -> np.ndarray | None:
    """The PRelu's slope per channel, (C,) float64, if it has one slope per channel of an
    (N, C, ...) activation and its output only feeds convolutions' data inputs whose weights
    are constants; else None."""
    if node.op_type != "PRelu" or node.input[1] not in constants or node.output[0] in graph_outputs or not convs:
        return None
    output = node.output[0]
    if any(conv.op_type != "Conv" or list(conv.input).count(output) != 1 or conv.input[0] != output
           or conv.input[1] not in constants for conv in convs):
        return None
    channels = {numpy_helper.to_array(constants[conv.input[1]]).shape[1] * _group(conv) for conv in convs}
    slope = numpy_helper.to_array(constants[node.input[1]]).astype(np.float64)
    rank = ranks.get(node.input[0], 0)
    if len(channels) != 1 or rank < 2 or slope.ndim > rank:
        return None
    aligned = (1,) * (rank - slope.ndim) + slope.shape  # broadcasting aligns the trailing axes
    if aligned[0] != 1 or any(size != 1 for size in aligned[2:]) or aligned[1] not in (1, *channels):
        return None
    per_channel = np.broadcast_to(slope.reshape(-1), (channels.pop(),))
    return per_channel if np.abs(per_channel).min() >= MIN_FOLDED_SLOPE else None


def _fold_prelu(graph: onnx.GraphProto, node: onnx.NodeProto, convs: list[onnx.NodeProto],
                constants: dict[str, onnx.TensorProto], slope: np.ndarray, ranks: dict[str, int]) -> list[onnx.NodeProto]:
    """``z = x + k*Relu(x)`` in place of the PRelu, and its convolutions reading ``z`` with
    weights times the slope."""
    x, (y,) = node.input[0], node.output
    z = f"{y}/over_slope"
    shape = (1, len(slope)) + (1,) * (ranks[x] - 2)
    k = numpy_helper.from_array(((1.0 - slope) / slope).astype(np.float32).reshape(shape), f"{y}/k")
    graph.initializer.append(k)
    for conv in convs:
        weight = numpy_helper.to_array(constants[conv.input[1]])
        scaled = numpy_helper.from_array(_scale_input_channels(weight, slope, _group(conv)), f"{conv.output[0]}/w_times_slope")
        graph.initializer.append(scaled)
        conv.input[0], conv.input[1] = z, scaled.name
    return [
        helper.make_node("Relu", [x], [f"{y}/relu"], name=f"{y}/Relu"),
        helper.make_node("Mul", [f"{y}/relu", k.name], [f"{y}/k_relu"], name=f"{y}/MulK"),
        helper.make_node("Add", [x, f"{y}/k_relu"], [z], name=f"{y}/Add"),
    ]


def _group(conv: onnx.NodeProto) -> int:
    return next((attribute.i for attribute in conv.attribute if attribute.name == "group"), 1)


def _scale_input_channels(weight: np.ndarray, factor: np.ndarray, group: int) -> np.ndarray:
    """Conv weights (O, C/group, kh, kw) times factor[c] for input channel c (one rounding)."""
    out_channels, per_group = weight.shape[:2]
    grouped = weight.astype(np.float64).reshape(group, out_channels // group, per_group, *weight.shape[2:])
    scaled = grouped * factor.reshape(group, 1, per_group, *(1,) * (weight.ndim - 2))
    return scaled.reshape(weight.shape).astype(np.float32)


def _ranks(model: onnx.ModelProto) -> dict[str, int]:
    """The rank of every tensor whose shape inference knows it."""
    inferred = onnx.shape_inference.infer_shapes(model).graph
    return {value.name: len(value.type.tensor_type.shape.dim)
            for value in [*inferred.input, *inferred.value_info, *inferred.output]
            if value.type.tensor_type.HasField("shape")}


def _drop_unused_initializers(graph: onnx.GraphProto, used: set[str]) -> None:
    kept = [initializer for initializer in graph.initializer if initializer.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def check_same_function(reference: onnx.ModelProto, rewritten: onnx.ModelProto, low: float, high: float,
                        batch: int = 1, tolerance: float = 1e-4) -> None:
    """Raise ValueError unless both models give the same outputs (within ``tolerance``
    relative to the output's scale) on a fixed random input drawn from [low, high)."""
    import onnxruntime as ort  # the runtime is needed only here, at build time

    def run(model: onnx.ModelProto, feed: np.ndarray) -> list[np.ndarray]:
        options = ort.SessionOptions()
        options.log_severity_level = 3  # the original's weights-as-inputs warnings are expected
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: feed})

    shape = [dim.dim_value or 1 for dim in rewritten.graph.input[0].type.tensor_type.shape.dim]
    shape[0] = batch
    feed = np.random.default_rng(0).uniform(low, high, shape).astype(np.float32)
    # The original may take one image at a time: run it per image, the rewrite on the batch.
    singles = [run(reference, feed[i:i + 1]) for i in range(batch)]
    for index, got in enumerate(run(rewritten, feed)):
        want = np.concatenate([outputs[index] for outputs in singles])
        difference = float(np.abs(got - want).max()) if got.shape == want.shape else np.inf
        if difference > tolerance * max(float(np.abs(want).max()), 1e-6):
            raise ValueError(f"the rewritten model differs from the original: output {index} has shape "
                             f"{got.shape} (expected {want.shape}), max |difference| {difference:.3g}")

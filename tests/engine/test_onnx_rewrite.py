"""Graph rewrites: the same function as the original, in the shape onnxruntime runs fast."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from shared.engine import onnx_rewrite
from shared.engine.modelstore import default_store


def _prelu_net(slope: np.ndarray, weights_as_inputs: bool = False) -> onnx.ModelProto:
    """conv (3 -> 4 channels) -> PRelu(slope) -> output, batch fixed at 1."""
    rng = np.random.default_rng(5)
    weight = numpy_helper.from_array(rng.normal(size=(4, 3, 3, 3)).astype(np.float32), "w")
    alpha = numpy_helper.from_array(slope.astype(np.float32), "alpha")
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])]
    if weights_as_inputs:
        inputs += [helper.make_tensor_value_info(t.name, TensorProto.FLOAT, list(t.dims)) for t in (weight, alpha)]
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("PRelu", ["c", "alpha"], ["y"])],
        "prelu", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])], [weight, alpha],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 6
    return model


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


@pytest.mark.parametrize("slope", [
    np.array([0.25, -0.5, 1.5, 0.0]).reshape(4, 1, 1),  # any sign, above 1: not a max(x, s*x)
    np.array([0.25, -0.5, 1.5, 0.0]).reshape(1, 4, 1, 1),
    np.array([0.2]),
])
def test_prelu_as_relu_is_the_same_function(slope: np.ndarray) -> None:
    original = _prelu_net(slope)
    rewritten = onnx.ModelProto()
    rewritten.CopyFrom(original)
    onnx_rewrite.prelu_as_relu(rewritten)
    onnx.checker.check_model(rewritten)
    assert "PRelu" not in {node.op_type for node in rewritten.graph.node}
    assert "alpha" not in {initializer.name for initializer in rewritten.graph.initializer}
    x = np.random.default_rng(1).normal(size=(1, 3, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(_run(rewritten, x), _run(original, x), atol=1e-5)
    onnx_rewrite.check_same_function(original, rewritten, low=-1, high=1)


def _prelu_into_convs_net(slope: np.ndarray, tail: str) -> onnx.ModelProto:
    """conv (3 -> 4) -> PRelu(slope) -> a padded 3x3 conv and a depthwise 3x3 conv (or, for
    tail "add", an Add) -> outputs."""
    rng = np.random.default_rng(7)
    weights = [numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name)
               for name, shape in (("w", (4, 3, 3, 3)), ("w_full", (5, 4, 3, 3)), ("w_depthwise", (4, 1, 3, 3)))]
    alpha = numpy_helper.from_array(slope.astype(np.float32), "alpha")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("PRelu", ["c", "alpha"], ["p"])]
    if tail == "add":
        nodes.append(helper.make_node("Add", ["p", "p"], ["y1"]))
        outputs = [helper.make_tensor_value_info("y1", TensorProto.FLOAT, [1, 4, 8, 8])]
    else:
        nodes += [helper.make_node("Conv", ["p", "w_full"], ["y1"], pads=[1, 1, 1, 1]),
                  helper.make_node("Conv", ["p", "w_depthwise"], ["y2"], pads=[1, 1, 1, 1], group=4)]
        outputs = [helper.make_tensor_value_info("y1", TensorProto.FLOAT, [1, 5, 8, 8]),
                   helper.make_tensor_value_info("y2", TensorProto.FLOAT, [1, 4, 8, 8])]
    used = {name for node in nodes for name in node.input}
    graph = helper.make_graph(nodes, "prelu_convs", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              outputs, [tensor for tensor in (*weights, alpha) if tensor.name in used])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def _run_all(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})


@pytest.mark.parametrize("slope", [
    np.array([0.25, -0.5, 1.5, 3e-6]).reshape(4, 1, 1),  # any sign, above 1, tiny (SFace has 2.7e-6)
    np.array([0.25, -0.5, 1.5, 0.8]).reshape(1, 4, 1, 1),
    np.array([0.2]),
])
def test_prelu_slopes_move_into_the_next_convolutions_exactly(slope: np.ndarray) -> None:
    original = _prelu_into_convs_net(slope, "convs")
    rewritten = onnx.ModelProto()
    rewritten.CopyFrom(original)
    onnx_rewrite.prelu_into_next_convs(rewritten)
    onnx.checker.check_model(rewritten)
    assert [node.op_type for node in rewritten.graph.node] == ["Conv", "Relu", "Mul", "Add", "Conv", "Conv"]
    x = np.random.default_rng(3).normal(size=(1, 3, 8, 8)).astype(np.float32)
    for got, want in zip(_run_all(rewritten, x), _run_all(original, x)):
        assert np.abs(got - want).max() <= 1e-6 * np.abs(want).max()


@pytest.mark.parametrize("slope, tail", [
    (np.array([0.25, -0.5, 1.5, 0.8]).reshape(4, 1, 1), "add"),  # feeds something else than a conv
    (np.array([0.25, -0.5, 1.5, 0.0]).reshape(4, 1, 1), "convs"),  # a zero slope has no 1/s
    (np.full((4, 1, 8), 0.5), "convs"),  # a slope per column, not per channel
])
def test_prelu_slopes_stay_where_they_cannot_move(slope: np.ndarray, tail: str) -> None:
    model = _prelu_into_convs_net(slope, tail)
    before = model.SerializeToString()
    onnx_rewrite.prelu_into_next_convs(model)
    assert model.SerializeToString() == before


def test_weights_leave_the_inputs_and_the_batch_becomes_dynamic() -> None:
    model = _prelu_net(np.full((4, 1, 1), 0.1), weights_as_inputs=True)
    onnx_rewrite.strip_initializer_inputs(model)
    onnx_rewrite.dynamic_batch(model)
    model = onnx_rewrite.upgrade_opset(model, 13)
    assert [value.name for value in model.graph.input] == ["x"]
    assert model.opset_import[0].version == 13
    x = np.random.default_rng(2).normal(size=(3, 3, 8, 8)).astype(np.float32)
    assert _run(model, x).shape == (3, 4, 8, 8)


def test_a_different_function_is_caught() -> None:
    original = _prelu_net(np.full((4, 1, 1), 0.1))
    other = _prelu_net(np.full((4, 1, 1), 0.3))
    with pytest.raises(ValueError, match="differs"):
        onnx_rewrite.check_same_function(original, other, low=-1, high=1)


def test_sface_derived_model_matches_the_published_one() -> None:
    """The prepared SFace graph: no weights among the inputs, no PRelu, any batch size,
    and the published graph's output on real-range input (the builder checks this too)."""
    store = default_store()
    published = onnx.load(str(store.path("sface_2021dec_onnx")))
    derived = onnx.load(str(store.path("sface_2021dec")))
    assert [value.name for value in derived.graph.input] == ["data"]
    assert "PRelu" not in {node.op_type for node in derived.graph.node}
    onnx_rewrite.check_same_function(published, derived, low=0.0, high=255.0, batch=3)

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

"""Convert dlib's face recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``) to ONNX.

The .dat file is dlib's own binary serialization of the network that dlib's
``dnn_face_recognition_ex.cpp`` calls ``anet_type``::

    loss_metric<fc_no_bias<128, avg_pool_everything<
        alevel0<alevel1<alevel2<alevel3<alevel4<
        max_pool<3,3,2,2, relu<affine<con<32,7,7,2,2, input_rgb_image_sized<150>>>>>>>>>>>>>

We read that file directly (no dlib at run time), check every layer against the
architecture above, and emit an equivalent ONNX graph with ``onnx.helper``.

dlib semantics that matter for an exact port:

* dlib serializes a network outside-in: the loss layer, then one version number per layer
  from the top down to the input, then the input layer's settings, then each layer's
  parameters from the bottom up (each followed by training state we skip).
* ``con`` pads ``size // 2`` only when its stride is 1; strided convs and pools pad 0.
* ``add_prev`` adds two tensors of different shapes by zero-extending both to the
  element-wise maximum shape (dlib ``tt::add``); the down-sampling blocks rely on this,
  because their 2x2 average-pooled shortcut has fewer channels (and, at 8x8 -> 4x4,
  one more row and column) than the strided conv branch.
* ``affine`` (frozen batch norm) is folded into the preceding conv as scale and bias.

Preprocessing is part of the graph, so callers feed plain pixels: input ``chips`` is
float32 ``[N, 150, 150, 3]``, RGB, 0..255 (an aligned face chip, see alignment.py);
the graph transposes to NCHW, subtracts dlib's per-channel means (read from the file:
122.782, 117.001, 104.298) and divides by 256 exactly as ``input_rgb_image_sized`` does.
Output ``descriptors`` is float32 ``[N, 128]``, the raw (unnormalised) dlib descriptor.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CHIP_SIZE = 150
INPUT_NAME = "chips"
OUTPUT_NAME = "descriptors"


# ----------------------------------------------------------------------------------------
# The architecture, bottom-up, as a list of layer specs (kind, *arguments).


def _block(filters: int, stride: int) -> list[tuple]:
    return [("con", filters, 3, stride), ("affine",), ("relu",), ("con", filters, 3, 1), ("affine",)]


def _ares(filters: int) -> list[tuple]:
    return [("tag", 1), *_block(filters, 1), ("add_prev", 1), ("relu",)]


def _ares_down(filters: int) -> list[tuple]:
    shortcut = [("tag", 2), ("skip", 1), ("avg_pool", 2, 2)]
    return [("tag", 1), *_block(filters, 2), *shortcut, ("add_prev", 2), ("relu",)]


def _architecture() -> list[tuple]:
    layers = [("con", 32, 7, 2), ("affine",), ("relu",), ("max_pool", 3, 2)]
    layers += _ares(32) * 3  # alevel4
    layers += _ares_down(64) + _ares(64) * 3  # alevel3
    layers += _ares_down(128) + _ares(128) * 2  # alevel2
    layers += _ares_down(256) + _ares(256) * 2  # alevel1
    layers += _ares_down(256)  # alevel0
    return layers + [("avg_pool_everything",), ("fc", 128)]


ARCHITECTURE = _architecture()


# ----------------------------------------------------------------------------------------
# dlib's serialization primitives.


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("dlib model file is truncated")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int(self) -> int:
        """dlib integers: control byte (bit 7 = negative, low 4 bits = length), then LE bytes."""
        control = self._take(1)[0]
        size = control & 0x0F
        if size == 0 or size > 8:
            raise ValueError(f"bad integer control byte 0x{control:02x} at {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def float(self) -> float:
        """dlib floats: integer mantissa then integer exponent, value = m * 2**e."""
        mantissa = self.int()
        exponent = self.int()
        return float(np.ldexp(float(mantissa), exponent))

    def bool(self) -> bool:
        char = self._take(1)
        if char not in (b"0", b"1"):
            raise ValueError(f"bad bool at {self.pos - 1}")
        return char == b"1"

    def string(self) -> str:
        return self._take(self.int()).decode("latin-1")

    def expect(self, what: str, *allowed: str) -> str:
        value = self.string()
        if value not in allowed:
            raise ValueError(f"expected {what} {allowed}, found {value!r} at {self.pos}")
        return value

    def version(self, expected: int, what: str) -> None:
        value = self.int()
        if value != expected:
            raise ValueError(f"{what}: version {value}, expected {expected}")

    def tensor(self) -> np.ndarray:
        """A dlib tensor: version 2, dims (n, k, nr, nc), then raw little-endian float32."""
        self.version(2, "tensor")
        shape = tuple(self.int() for _ in range(4))
        count = int(np.prod(shape))
        return np.frombuffer(self._take(4 * count), dtype="<f4").astype(np.float32).reshape(shape)

    def alias(self) -> tuple[int, ...]:
        self.version(1, "alias_tensor")
        return tuple(self.int() for _ in range(4))


# ----------------------------------------------------------------------------------------
# Layer parameters, read bottom-up in file order.


@dataclass
class _Parsed:
    means: tuple[float, float, float]
    params: list[dict] = field(default_factory=list)  # one per computational layer, bottom-up


def _split(params: np.ndarray, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    flat = params.reshape(-1)
    out, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(flat[offset:offset + size].reshape(shape))
        offset += size
    if offset != flat.size:
        raise ValueError("layer parameter size does not match its aliases")
    return out


def _read_con(r: _Reader, spec: tuple) -> dict:
    version = r.expect("conv layer", "con_4", "con_5", "con_6")
    params = r.tensor()
    filters, rows, cols = r.int(), r.int(), r.int()
    stride_y, stride_x, pad_y, pad_x = r.int(), r.int(), r.int(), r.int()
    w_shape, b_shape = r.alias(), r.alias()
    for _ in range(4):  # learning-rate and weight-decay multipliers
        r.float()
    if version in ("con_5", "con_6") and not r.bool():
        raise ValueError("conv without bias is not part of this architecture")
    if version == "con_6" and r.bool():
        raise ValueError("fused conv+relu is not part of this architecture")
    _, want_filters, size, stride = spec
    expected_pad = 0 if stride != 1 else size // 2
    if (filters, rows, cols, stride_y, stride_x) != (want_filters, size, size, stride, stride) \
            or (pad_y, pad_x) != (expected_pad, expected_pad):
        raise ValueError(f"conv layer does not match the architecture: {spec}")
    weight, bias = _split(params, w_shape, b_shape)
    return {"weight": weight, "bias": bias.reshape(-1), "stride": stride, "pad": pad_y}


def _read_affine(r: _Reader) -> dict:
    r.expect("affine layer", "affine_")
    params = r.tensor()
    gamma, beta = _split(params, r.alias(), r.alias())
    r.int()  # mode (conv/fc); the per-channel vectors are the same either way here
    return {"gamma": gamma.reshape(-1), "beta": beta.reshape(-1)}


def _read_pool(r: _Reader, spec: tuple) -> dict:
    r.expect("pool layer", "max_pool_2" if spec[0] == "max_pool" else "avg_pool_2")
    rows, cols, stride_y, stride_x, pad_y, pad_x = (r.int() for _ in range(6))
    if spec[0] == "avg_pool_everything":
        ok = (rows, cols, stride_y, stride_x, pad_y, pad_x) == (0, 0, 1, 1, 0, 0)
    else:
        ok = (rows, cols, stride_y, stride_x, pad_y, pad_x) == (spec[1], spec[1], spec[2], spec[2], 0, 0)
    if not ok:
        raise ValueError(f"pool layer does not match the architecture: {spec}")
    return {}


def _read_fc(r: _Reader, spec: tuple) -> dict:
    r.expect("fc layer", "fc_2")
    outputs, inputs = r.int(), r.int()
    params = r.tensor()
    w_shape, _ = r.alias(), r.alias()
    if r.int() != 1:  # bias mode: dlib's FC_NO_BIAS is 1
        raise ValueError("expected fc_no_bias")
    for _ in range(4):
        r.float()
    if outputs != spec[1]:
        raise ValueError("fc layer does not match the architecture")
    (weight,) = _split(params, w_shape)
    return {"weight": weight.reshape(inputs, outputs)}


def _read_details(r: _Reader, spec: tuple) -> dict:
    kind = spec[0]
    if kind == "con":
        return _read_con(r, spec)
    if kind == "affine":
        return _read_affine(r)
    if kind in ("max_pool", "avg_pool", "avg_pool_everything"):
        return _read_pool(r, spec)
    if kind == "fc":
        return _read_fc(r, spec)
    r.expect(f"{kind} layer", f"{kind}_")  # relu_, add_prev_: no parameters
    return {}


def _skip_training_state(r: _Reader, bottom: bool) -> None:
    for _ in range(3):  # setup-called, gradient-stale, getters-disabled flags
        r.bool()
    for _ in range(3):  # x_grad, cached_output, params_grad (bottom: grad_final)
        r.tensor()
    if bottom:
        r.int()  # sample expansion factor


def _computational(spec: tuple) -> bool:
    return spec[0] not in ("tag", "skip")


def parse_dat(data: bytes) -> _Parsed:
    """Read a serialized anet_type; raises ValueError if the file is anything else."""
    r = _Reader(data)
    r.version(1, "loss layer")
    r.expect("loss layer", "loss_metric_2")
    for _ in range(2):  # margin and distance threshold: training-only
        r.float()
    for index, spec in reversed(list(enumerate(ARCHITECTURE))):
        expected = 1 if not _computational(spec) else (3 if index == 0 else 2)
        r.version(expected, f"layer {index} {spec[0]}")
    r.expect("input layer", "input_rgb_image_sized")
    means = (r.float(), r.float(), r.float())
    if (r.int(), r.int()) != (CHIP_SIZE, CHIP_SIZE):
        raise ValueError("input layer is not 150x150")
    parsed = _Parsed(means=means)
    for index, spec in enumerate(ARCHITECTURE):
        if _computational(spec):
            parsed.params.append(_read_details(r, spec))
            _skip_training_state(r, bottom=index == 0)
    if r.pos != len(data):
        raise ValueError(f"{len(data) - r.pos} unexpected trailing bytes")
    return parsed


# ----------------------------------------------------------------------------------------
# ONNX graph.


class _GraphBuilder:
    def __init__(self):
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.counter = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_{self.counter}"

    def const(self, prefix: str, value: np.ndarray) -> str:
        name = self.name(prefix)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], prefix: str, **attrs) -> str:
        out = self.name(prefix)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


@dataclass
class _Value:
    name: str
    shape: tuple[int, int, int]  # (channels, rows, cols): shapes are static for 150x150 input


def _out_size(size: int, window: int, stride: int, pad: int) -> int:
    return 1 + (size + 2 * pad - window) // stride


def _conv_affine(g: _GraphBuilder, x: _Value, con: dict, affine: dict) -> _Value:
    gamma, beta = affine["gamma"], affine["beta"]
    weight = (con["weight"] * gamma[:, None, None, None]).astype(np.float32)
    bias = (con["bias"] * gamma + beta).astype(np.float32)
    stride, pad, size = con["stride"], con["pad"], weight.shape[2]
    name = g.node("Conv", [x.name, g.const("w", weight), g.const("b", bias)], "conv",
                  kernel_shape=[size, size], strides=[stride, stride], pads=[pad] * 4)
    rows = _out_size(x.shape[1], size, stride, pad)
    cols = _out_size(x.shape[2], size, stride, pad)
    return _Value(name, (weight.shape[0], rows, cols))


def _zero_extend(g: _GraphBuilder, x: _Value, shape: tuple[int, int, int]) -> str:
    if x.shape == shape:
        return x.name
    grow = [target - have for target, have in zip(shape, x.shape)]
    pads = np.array([0, 0, 0, 0, 0, *grow], dtype=np.int64)
    return g.node("Pad", [x.name, g.const("pads", pads)], "pad", mode="constant")


def _add_prev(g: _GraphBuilder, a: _Value, b: _Value) -> _Value:
    shape = tuple(max(p, q) for p, q in zip(a.shape, b.shape))
    name = g.node("Add", [_zero_extend(g, a, shape), _zero_extend(g, b, shape)], "add")
    return _Value(name, shape)


def _pool(g: _GraphBuilder, x: _Value, op: str, window: int, stride: int) -> _Value:
    name = g.node(op, [x.name], "pool", kernel_shape=[window, window], strides=[stride, stride])
    rows = _out_size(x.shape[1], window, stride, 0)
    cols = _out_size(x.shape[2], window, stride, 0)
    return _Value(name, (x.shape[0], rows, cols))


def _preprocess(g: _GraphBuilder, means: tuple[float, float, float]) -> _Value:
    nchw = g.node("Transpose", [INPUT_NAME], "nchw", perm=[0, 3, 1, 2])
    mean = np.array(means, dtype=np.float32).reshape(1, 3, 1, 1)
    centred = g.node("Sub", [nchw, g.const("mean", mean)], "centred")
    # Division by 256 is exact in binary floating point, so Mul(1/256) matches dlib bit for bit.
    scaled = g.node("Mul", [centred, g.const("scale", np.array(1 / 256, dtype=np.float32))], "scaled")
    return _Value(scaled, (3, CHIP_SIZE, CHIP_SIZE))


def _build_graph(parsed: _Parsed) -> onnx.ModelProto:
    g = _GraphBuilder()
    x = _preprocess(g, parsed.means)
    tags: dict[int, _Value] = {}
    params = iter(parsed.params)
    pending_con = None
    for spec in ARCHITECTURE:
        kind = spec[0]
        if kind == "tag":
            tags[spec[1]] = x
        elif kind == "skip":
            x = tags[spec[1]]
        elif kind == "con":
            pending_con = next(params)  # always followed by an affine: fold the two
        elif kind == "affine":
            x = _conv_affine(g, x, pending_con, next(params))
        else:
            layer = next(params)
            x = _apply(g, x, spec, layer, tags)
    return _finish(g)


def _apply(g: _GraphBuilder, x: _Value, spec: tuple, layer: dict, tags: dict[int, _Value]) -> _Value:
    kind = spec[0]
    if kind == "relu":
        return _Value(g.node("Relu", [x.name], "relu"), x.shape)
    if kind == "max_pool":
        return _pool(g, x, "MaxPool", spec[1], spec[2])
    if kind == "avg_pool":
        return _pool(g, x, "AveragePool", spec[1], spec[2])
    if kind == "add_prev":
        return _add_prev(g, x, tags[spec[1]])
    if kind == "avg_pool_everything":
        pooled = g.node("GlobalAveragePool", [x.name], "gap")
        return _Value(g.node("Flatten", [pooled], "flat", axis=1), (x.shape[0], 1, 1))
    if kind == "fc":
        return _Value(g.node("MatMul", [x.name, g.const("fc", layer["weight"])], "fc"), (spec[1], 1, 1))
    raise ValueError(f"unknown layer kind {kind}")


def _finish(g: _GraphBuilder) -> onnx.ModelProto:
    last = g.nodes[-1]
    last.output[0] = OUTPUT_NAME
    graph = helper.make_graph(
        g.nodes, "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", CHIP_SIZE, CHIP_SIZE, 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", 128])],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="shared.engine.dlib_onnx")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def build_onnx(source_path: Path, out_path: Path) -> None:
    """Read dlib's .dat at ``source_path`` and write the equivalent ONNX model to ``out_path``.

    The model store passes a path in a scratch folder and moves the file into the cache only
    when this returns (``modelstore._install_atomically``), so a half-written or failed build
    is never a cached model.
    """
    model = _build_graph(parse_dat(Path(source_path).read_bytes()))
    Path(out_path).write_bytes(model.SerializeToString())


__all__ = ["build_onnx", "parse_dat", "ARCHITECTURE", "CHIP_SIZE", "INPUT_NAME", "OUTPUT_NAME"]

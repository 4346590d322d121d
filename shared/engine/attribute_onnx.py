"""Builders: the attribute models' .tflite files -> ONNX, run once at prepare time.

Like mediapipe_onnx.py, tflite2onnx reads the flatbuffer directly (no TensorFlow). Each
model needs one small fix that the converter does not make (data/MANIFEST.md says which):

* face mask detector (AIZOOTech, SSD): TFLite keeps each Reshape's target shape as an (n, 1)
  constant; ONNX wants a 1-D vector, so the constants are flattened after conversion. Its
  first convolution also has 27 subnormal weights (below 1.2e-38): x86 computes with those
  ~100x slower (195 ms instead of 2 for the whole model), so they become 0, which changes
  no output by more than float rounding. The graph is fully convolutional: its input is set
  to face_mask.INPUT_SIZE (the service feeds one face, not a scene) and the build checks that
  the outputs then match the anchors face_mask lays out for that size, less the first
  feature map's heads (face_mask.FIRST_MAP). Its input gets a fourth, zero channel (with zero
  weights: the same function), for onnxruntime's faster int8 kernel. Last, it is quantised to
  int8 (static QDQ: per-channel int8 weights, uint8 activations; the backbone's small deep
  maps stay float, MASK_FLOAT_NODES): about 2 ms a run instead of 4.2, the same decision on
  all 399 labelled faces. The activation ranges come from int8/face_mask_ranges.json, which
  benchmarks/mask_int8.py computes (labelled mask photos and synthetic occlusion images) and
  which is checked in: the build needs no photos, and the same source and ranges always give
  the same bytes (conversion in name order, quantisation a pure function of weights and ranges).
* glasses classifier (MobileNetV3-Small, fp16 weights): four Pad operators share one
  paddings tensor; tflite2onnx rewrites a Pad's paddings in place from TFLite's (n, 2) to
  ONNX's flat (2n,) form, so the second Pad finds it flat already and fails. All four pad an
  NHWC tensor of the same rank the same way, so converting the shared tensor once is right.

The model store calls these through the catalog (``builder``), only when it builds the
derived models; the service never imports this module.
"""
from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnx.version_converter
from onnx import numpy_helper
from tflite2onnx.op import padding

from shared.engine import face_mask
from shared.engine.mediapipe_onnx import check_converted, convert_tflite, quiet_logger

MASK_RANGES = Path(__file__).resolve().parent / "int8" / "face_mask_ranges.json"
QDQ_OPSET = 13
PADDED_INPUT_CHANNELS = 4
# Left in float: the backbone after the 20x20 map (convolutions 4-7, 128 channels on 10x10 and
# smaller maps, 4% of the multiply-adds). Every head that sees a face of the size we feed reads
# them, and in int8 their error added up: a colour patch over a mouth scored Mask 0.71 against
# NoMask 0.57 where the float graph says 0.47 / 0.72; with them float, 0.50 / 0.69 (no mask), at
# the same run time.
MASK_FLOAT_NODES = tuple(f"{prefix}conv2d_{index}_activation_1/Relu"
                         for index in range(4, 8) for prefix in ("TFLITE2ONNX_FAF_", ""))


def build_mask_detector(source_path: Path, out_path: Path) -> None:
    model = quantized_int8(float_mask_detector(source_path, out_path), load_ranges(MASK_RANGES), MASK_FLOAT_NODES)
    check_converted(model, Path(out_path).name)
    _check_mask_outputs(model)
    onnx.save(model, str(out_path))


def float_mask_detector(source_path: Path, out_path: Path) -> onnx.ModelProto:
    """The converted detector before quantisation (benchmarks/mask_int8.py calibrates it)."""
    model = convert_tflite(source_path, out_path)
    _flatten_reshape_shapes(model)
    _flush_subnormal_weights(model)
    _set_input_size(model, face_mask.INPUT_SIZE)
    _drop_first_maps(model, face_mask.FIRST_MAP)
    _pad_input_channels(model, PADDED_INPUT_CHANNELS)
    check_converted(model, Path(out_path).name)
    _check_mask_outputs(model)
    return model


def _drop_first_maps(model: onnx.ModelProto, count: int) -> None:
    """Leave out the heads of the first ``count`` feature maps (face_mask.FIRST_MAP says why):
    their inputs to the two output Concats, then every node and weight nothing reads any more."""
    graph = model.graph
    outputs = {output.name for output in graph.output}
    for node in graph.node:
        if node.op_type == "Concat" and node.output[0] in outputs:
            dropped = node.input[:count]
            if not all(name.split("_")[1] == str(index) for index, name in enumerate(dropped)):
                raise ValueError(f"unexpected head order in {node.output[0]}: {list(node.input)}")
            del node.input[:count]
    needed = set(outputs)
    kept = []
    for node in reversed(graph.node):
        if any(output in needed for output in node.output):
            kept.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    unused = [init for init in graph.initializer if init.name not in needed]
    for init in unused:
        graph.initializer.remove(init)


def _pad_input_channels(model: onnx.ModelProto, channels: int) -> None:
    """A zero channel after the RGB ones, and a zero weight for it in the first convolution:
    the same outputs, but onnxruntime's int8 convolution over 3 channels took 1.0 ms where
    over 4 it takes 0.6 (a kernel for a multiple of 4), 40% of the whole model before."""
    graph = model.graph
    source = graph.input[0].name
    first = next(node for node in graph.node if node.op_type == "Conv" and node.input[0] == source)
    weights = next(init for init in graph.initializer if init.name == first.input[1])
    kernel = numpy_helper.to_array(weights)
    extra = channels - kernel.shape[1]
    weights.CopyFrom(numpy_helper.from_array(np.pad(kernel, ((0, 0), (0, extra), (0, 0), (0, 0))), weights.name))
    padded, pads = f"{source}_padded", f"{source}_channel_pads"
    graph.initializer.append(numpy_helper.from_array(np.array([0, 0, 0, 0, 0, extra, 0, 0], np.int64), pads))
    graph.node.insert(0, onnx.helper.make_node("Pad", [source, pads], [padded], name=padded))
    first.input[0] = padded


def _check_mask_outputs(model: onnx.ModelProto) -> None:
    outputs = _check_runs(model, low=0.0, high=1.0)  # RGB in [0, 1]
    if any(output.shape[1] != len(face_mask.ANCHORS) for output in outputs):
        raise ValueError(f"mask detector outputs {[o.shape for o in outputs]} do not match "
                         f"{len(face_mask.ANCHORS)} anchors at {face_mask.INPUT_SIZE} px")


def load_ranges(path: Path) -> dict[str, tuple[float, float]]:
    return {name: (low, high) for name, (low, high) in json.loads(path.read_text())["ranges"].items()}


def quantized_int8(model: onnx.ModelProto, ranges: dict[str, tuple[float, float]],
                   float_nodes: tuple[str, ...] = ()) -> onnx.ModelProto:
    """Static QDQ int8 (per-channel int8 weights, uint8 activations) with the activation
    ranges given, so the build needs no photos and gives the same bytes every time; the
    nodes in ``float_nodes`` (output names) stay float. A tensor without a range is an error:
    the ranges were computed on a graph with other names."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.calibrate import TensorsData, save_tensors_data

    needed = {model.graph.input[0].name} | {output for node in model.graph.node for output in node.output}
    missing = sorted(needed - set(ranges))
    if missing:
        raise ValueError(f"no activation range for {len(missing)} tensors, e.g. {missing[:3]}")
    excluded = [node.name for node in model.graph.node if node.output[0] in float_nodes]
    # Per-channel DequantizeLinear (its axis attribute) needs opset 13; tflite2onnx writes 11,
    # and none of this graph's operators differs between the two.
    model = onnx.version_converter.convert_version(model, QDQ_OPSET)
    with tempfile.TemporaryDirectory(prefix="int8-") as scratch:
        cache = Path(scratch) / "ranges.json"
        data = {name: tuple(np.float32(bound) for bound in ranges[name]) for name in sorted(needed)}
        save_tensors_data(TensorsData(CalibrationMethod.MinMax, data), cache)
        with quiet_logger(None):  # its advice to run quant_pre_process: no BatchNorm or shapes to fold here
            quantize_static(model, Path(scratch) / "int8.onnx", calibration_cache_path=cache,
                            quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
                            weight_type=QuantType.QInt8, nodes_to_exclude=excluded)
        return onnx.load(str(Path(scratch) / "int8.onnx"))


def build_glasses_classifier(source_path: Path, out_path: Path) -> None:
    with _shared_paddings_converted_once():
        model = convert_tflite(source_path, out_path)
    check_converted(model, Path(out_path).name)
    _check_runs(model, low=0.0, high=255.0)  # RGB in 0..255
    onnx.save(model, str(out_path))


def _flatten_reshape_shapes(model: onnx.ModelProto) -> None:
    constants = {initializer.name: initializer for initializer in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != "Reshape" or node.input[1] not in constants:
            continue
        shape = constants[node.input[1]]
        shape.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(shape).reshape(-1), shape.name))


def _set_input_size(model: onnx.ModelProto, size: int) -> None:
    """Square NCHW input of ``size``; the per-anchor output length follows from it."""
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_value = dims[3].dim_value = size
    del model.graph.value_info[:]  # shapes inferred for 260 px
    for output in model.graph.output:
        output.type.tensor_type.shape.dim[1].dim_param = "anchors"


def _flush_subnormal_weights(model: onnx.ModelProto) -> None:
    for initializer in model.graph.initializer:
        weights = numpy_helper.to_array(initializer)
        if weights.dtype != np.float32:
            continue
        subnormal = (weights != 0) & (np.abs(weights) < np.finfo(np.float32).tiny)
        if subnormal.any():
            initializer.CopyFrom(numpy_helper.from_array(np.where(subnormal, 0, weights).astype(np.float32), initializer.name))


@contextlib.contextmanager
def _shared_paddings_converted_once() -> Iterator[None]:
    """tflite2onnx's Pad transform, skipping a paddings tensor it has already made flat."""
    original = padding.Padding.transform

    def transform(self: padding.Padding) -> None:
        if len(self.inputs[1].shape) == 1:
            return
        original(self)

    padding.Padding.transform = transform
    try:
        yield
    finally:
        padding.Padding.transform = original


def _check_runs(model: onnx.ModelProto, low: float, high: float) -> list[np.ndarray]:
    """The outputs on a fixed random input; ValueError unless every one is finite."""
    import onnxruntime as ort  # the runtime is needed only here, at build time

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    shape = [dim.dim_value or 1 for dim in model.graph.input[0].type.tensor_type.shape.dim]
    feed = np.random.default_rng(0).uniform(low, high, shape).astype(np.float32)
    outputs = session.run(None, {session.get_inputs()[0].name: feed})
    for index, output in enumerate(outputs):
        if not np.all(np.isfinite(output)):
            raise ValueError(f"output {index} of the converted model is not finite")
    return outputs

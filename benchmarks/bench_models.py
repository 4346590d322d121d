"""Model run time before and after the prepare-time graph rewrites, one onnxruntime thread.

    .venv/bin/python benchmarks/bench_models.py [--runs N]

For the face mesh and iris models: tflite2onnx's graph (converted again into a temp folder)
against the prepared one (PRelu rewritten); for SFace: the published OpenCV Zoo file against
the prepared one (weights out of the inputs, dynamic batch, opset 13, PRelu rewritten), at a
batch of 1 and per face at a batch of 8; dlib's ResNet as converted. Inputs are random in
each model's range; the two graphs of a model alternate run by run, so machine load hits
both alike. Prints median and minimum ms per run, and each network's convolution
multiply-adds per face (from onnx shape inference), the work a float32 core must do.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared")
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))
os.environ["FACE_ORT_THREADS"] = "1"

import tflite2onnx  # noqa: E402

from shared.engine.modelstore import default_store  # noqa: E402
from shared.engine.onnx_model import session_options  # noqa: E402


def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), sess_options=session_options(), providers=["CPUExecutionProvider"])


def feed_for(model: ort.InferenceSession, batch: int, high: float) -> dict[str, np.ndarray]:
    spec = model.get_inputs()[0]
    shape = [batch if i == 0 else dim for i, dim in enumerate(spec.shape)]
    return {spec.name: np.random.default_rng(0).uniform(0, high, shape).astype(np.float32)}


def compare(label: str, paths: dict[str, Path], high: float, runs: int, batch: int = 1) -> None:
    """Alternate the variants run by run; a fixed-batch-of-one graph runs the batch face by face."""
    models = {name: session(path) for name, path in paths.items()}
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(runs + 3):
        for name, model in models.items():
            fixed = model.get_inputs()[0].shape[0] == 1
            feeds = [feed_for(model, 1, high)] * batch if fixed else [feed_for(model, batch, high)]
            start = time.perf_counter()
            for feed in feeds:
                model.run(None, feed)
            times[name].append((time.perf_counter() - start) * 1000 / batch)
    for name, values in times.items():
        kept = values[3:]  # the first runs warm the session
        print(f"{label:22s} {name:28s} per face: median {np.median(kept):6.2f} ms  min {np.min(kept):6.2f} ms")


def conv_multiply_adds(path: Path) -> int:
    """Multiply-adds of every Conv for one input: output elements x (input channels / group) x kernel."""
    model = onnx.load(str(path))
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
    inferred = onnx.shape_inference.infer_shapes(model).graph
    shapes = {value.name: [dim.dim_value for dim in value.type.tensor_type.shape.dim]
              for value in [*inferred.value_info, *inferred.output]}
    weights = {initializer.name: list(initializer.dims) for initializer in inferred.initializer}
    total = 0
    for node in inferred.node:
        if node.op_type == "Conv":
            _, per_group, *kernel = weights[node.input[1]]
            total += int(np.prod(shapes[node.output[0]])) * per_group * int(np.prod(kernel))
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    store = default_store()
    with tempfile.TemporaryDirectory() as scratch:
        for name in ("face_landmark", "iris_landmark"):
            converted = Path(scratch) / f"{name}.onnx"
            tflite2onnx.convert(str(store.path(f"{name}_tflite")), str(converted))
            compare(name, {"tflite2onnx": converted, "prepared (PRelu rewritten)": store.path(name)}, 1.0, runs)
    sface = {"published": store.path("sface_2021dec_onnx"), "prepared": store.path("sface_2021dec")}
    compare("sface, batch 1", sface, 255.0, runs)
    compare("sface, batch 8", sface, 255.0, max(runs // 4, 5), batch=8)
    compare("dlib_resnet_v1", {"converted": store.path("dlib_resnet_v1")}, 255.0, runs)
    for name in ("sface_2021dec", "dlib_resnet_v1"):
        print(f"{name}: {conv_multiply_adds(store.path(name)) / 1e6:.0f} M convolution multiply-adds per face")


if __name__ == "__main__":
    main()

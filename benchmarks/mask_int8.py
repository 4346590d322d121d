"""The int8 face-mask detector: its activation ranges, and how it compares with the float graph.

    .venv/bin/python benchmarks/mask_int8.py [--write] [--runs 200]

The labelled mask photos (../shared/data/attributes/mask) with exactly one face found
(detection_03, as benchmarks/attribute_accuracy.py counts them) are split in two halves by
position in the sorted listing; the even half calibrates, with SYNTHETIC images of the
occlusion set that benchmarks/occlusion_fit.py fits on (lfw-dev's fitting half, its seed: flat
colour patches, bars, hands over a face; without them a colour patch over a mouth drove
activations past the photos' ranges and the int8 graph called it a mask where the float one
did not). Ranges are each tensor's minimum and maximum over the calibration crops (the
detector's own input: face_mask.input_tensor), for every tensor of the float graph
(attribute_onnx.float_mask_detector).

For the float graph and each int8 variant (attribute_onnx.quantized_int8) it prints the
detector's decision accuracy (faceMask for a masked photo, noMask for a bare one; the
mouth-occlusion fallback to otherMaskOrOcclusion is left out: the same for every variant) on
all faces and on the held-out half, the decisions that differ from the float graph, the largest
score difference (and the decisions changed on the synthetic images), and the model run time (this process's CPU time, minimum and median of
RUNS runs, one thread, variants alternating). ``--write`` writes the ranges to attribute_onnx.MASK_RANGES, which
``prepare`` builds the served model from: the build needs no photos and is deterministic.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared").resolve()
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))

from benchmarks import occlusion_set  # noqa: E402
from benchmarks.attribute_accuracy import labelled_photos  # noqa: E402
from benchmarks.occlusion_fit import FIT_SEED, lfw_half  # noqa: E402
from shared.engine import attribute_onnx, face_mask  # noqa: E402
from shared.engine.attributes import MASK_MIN_SCORE  # noqa: E402
from shared.engine.engine import Engine  # noqa: E402
from shared.engine.imaging import decode_image  # noqa: E402
from shared.engine.modelstore import model_path  # noqa: E402
from shared.engine.onnx_model import session_options  # noqa: E402
from shared.engine.types import DetectOptions, Rectangle  # noqa: E402

SYNTHETIC = 600
# Variants: name -> nodes left in float (by output name). The first convolution has 3 input
# channels, where int8 gains least; left in float with its pool, it still runs slower, because
# onnxruntime moves the quantisation ahead of the pool, which then runs as uint8 in NCHW.
VARIANTS: dict[str, tuple[str, ...]] = {
    "int8 everywhere": (),
    "int8, deep float (served)": attribute_onnx.MASK_FLOAT_NODES,
    "int8, float stem": ("TFLITE2ONNX_FAF_conv2d_0_activation_1/Relu", "conv2d_0_activation_1/Relu", "maxpool2d_0_1/MaxPool"),
}


@dataclass(frozen=True)
class Face:
    masked: bool
    calibrates: bool
    tensor: np.ndarray
    rectangle: Rectangle


def labelled_faces() -> list[Face]:
    engine, faces = Engine(), []
    for masked in (True, False):
        photos = [path for path, positive in labelled_photos("mask") if positive == masked]
        for index, path in enumerate(photos):
            image = path.read_bytes()
            found = engine.detect(image, DetectOptions(detection_model="detection_03"))
            if len(found) == 1:
                tensor = face_mask.input_tensor(decode_image(image), found[0].rectangle)
                faces.append(Face(masked, index % 2 == 0, tensor, found[0].rectangle))
    return faces


def synthetic_faces(count: int) -> list[Face]:
    """The faces of the first ``count`` images of occlusion_fit's synthetic set (no mask labels)."""
    engine, faces = Engine(), []
    with tempfile.TemporaryDirectory(prefix="mask-int8-set-") as folder:
        for sample in occlusion_set.make_set(lfw_half(fitting=True), count, FIT_SEED, Path(folder)):
            image = decode_image(sample.path.read_bytes())
            face = occlusion_set.centred_face(engine.detect(sample.path.read_bytes(), DetectOptions()), image)
            if face is not None:
                faces.append(Face(False, True, face_mask.input_tensor(image, face.rectangle), face.rectangle))
    return faces


def activation_ranges(model: onnx.ModelProto, tensors: list[np.ndarray]) -> dict[str, tuple[float, float]]:
    """Minimum and maximum of every tensor of ``model`` over ``tensors``."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    names = [output for node in probe.graph.node for output in node.output]
    known = {output.name for output in probe.graph.output}
    probe.graph.output.extend(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
                              for name in names if name not in known)
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    output_names = [output.name for output in session.get_outputs()]
    low = {input_name: min(float(t.min()) for t in tensors)}
    high = {input_name: max(float(t.max()) for t in tensors)}
    for tensor in tensors:
        for name, value in zip(output_names, session.run(None, {input_name: tensor})):
            low[name] = min(low.get(name, np.inf), float(value.min()))
            high[name] = max(high.get(name, -np.inf), float(value.max()))
    # Six significant digits: what the JSON keeps, so the figures here are the served model's.
    return {name: (float(f"{low[name]:.6g}"), float(f"{high[name]:.6g}")) for name in sorted(low)}


def decision(scores: face_mask.MaskScores) -> str:
    if max(scores.mask, scores.no_mask) < MASK_MIN_SCORE:
        return "uncertain"
    return "faceMask" if scores.mask >= scores.no_mask else "noMask"


def evaluate(session: ort.InferenceSession, faces: list[Face]) -> list[face_mask.MaskScores]:
    name = session.get_inputs()[0].name
    results = []
    for face in faces:
        offsets, classes = (output[0] for output in session.run(None, {name: face.tensor}))
        results.append(face_mask.face_scores(offsets, classes, face.rectangle))
    return results


def timings(sessions: dict[str, ort.InferenceSession], tensor: np.ndarray, runs: int) -> dict[str, tuple[float, float]]:
    times: dict[str, list[float]] = {name: [] for name in sessions}
    for _ in range(runs):
        for name, session in sessions.items():
            feed = {session.get_inputs()[0].name: tensor}
            start = time.process_time()
            session.run(None, feed)
            times[name].append((time.process_time() - start) * 1000)
    return {name: (min(values), float(np.median(values))) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write the ranges to {attribute_onnx.MASK_RANGES}")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    faces = labelled_faces()
    synthetic = synthetic_faces(SYNTHETIC)
    calibration = [face.tensor for face in faces if face.calibrates] + [face.tensor for face in synthetic]
    with tempfile.TemporaryDirectory(prefix="mask-int8-") as scratch:
        float_model = attribute_onnx.float_mask_detector(model_path("face_mask_tflite"), Path(scratch) / "float.onnx")
    ranges = activation_ranges(float_model, calibration)
    models = {"float": float_model} | {name: attribute_onnx.quantized_int8(float_model, ranges, float_nodes)
                                       for name, float_nodes in VARIANTS.items()}
    sessions = {name: ort.InferenceSession(model.SerializeToString(), session_options(), providers=["CPUExecutionProvider"])
                for name, model in models.items()}
    expected = ["faceMask" if face.masked else "noMask" for face in faces]
    held_out = [not face.calibrates for face in faces]
    reference = evaluate(sessions["float"], faces)
    synthetic_reference = evaluate(sessions["float"], synthetic)
    speed = timings(sessions, faces[0].tensor, args.runs)
    print(f"mask detector at {face_mask.INPUT_SIZE} px: {len(faces)} faces "
          f"({sum(f.calibrates for f in faces)} calibrate with {len(calibration) - sum(f.calibrates for f in faces)} "
          f"synthetic images, {sum(held_out)} held out); CPU ms per run, {args.runs} runs, "
          f"FACE_ORT_THREADS={os.environ.get('FACE_ORT_THREADS', '1')}")
    for name, session in sessions.items():
        scores = evaluate(session, faces)
        right = [decision(s) == e for s, e in zip(scores, expected)]
        changed = sum(decision(s) != decision(r) for s, r in zip(scores, reference))
        difference = max(max(abs(s.mask - r.mask), abs(s.no_mask - r.no_mask)) for s, r in zip(scores, reference))
        flips = sum(decision(s) != decision(r) for s, r in zip(evaluate(session, synthetic), synthetic_reference))
        print(f"  {name:<26} synthetic decisions changed {flips:>2}, accuracy {np.mean(right):.4f} (held out {np.mean([r for r, h in zip(right, held_out) if h]):.4f}), "
              f"decisions changed {changed}, max score difference {difference:.3f}, "
              f"run min {speed[name][0]:.2f} median {speed[name][1]:.2f}")
    if args.write:
        attribute_onnx.MASK_RANGES.parent.mkdir(exist_ok=True)
        about = (f"Activation ranges (min, max) of the float face-mask detector at {face_mask.INPUT_SIZE} px over "
                 f"{len(calibration)} face crops: {sum(f.calibrates for f in faces)} of the labelled mask photos and "
                 f"{len(synthetic)} of the synthetic occlusion set occlusion_fit.py fits on; written by "
                 "benchmarks/mask_int8.py --write, read by attribute_onnx.build_mask_detector.")
        lines = ",\n".join(f"  {json.dumps(name)}: {json.dumps(list(bounds))}" for name, bounds in ranges.items())
        attribute_onnx.MASK_RANGES.write_text(f'{{\n "about": {json.dumps(about)},\n "ranges": {{\n{lines}\n }}\n}}\n')
        print(f"wrote {attribute_onnx.MASK_RANGES}")


if __name__ == "__main__":
    main()

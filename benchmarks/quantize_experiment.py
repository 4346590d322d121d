"""Per-channel static int8 for SFace and dlib: does the accuracy hold, and what does it save?

    .venv/bin/python benchmarks/quantize_experiment.py [--variants NAME ...]   (~10 min a variant)

Each variant quantises the prepared float graph with onnxruntime.quantization.quantize_static
(QDQ, per-channel weights, uint8 activations), calibrated on the chips of 200 lfw-dev photos
(a fixed random choice), then embeds every lfw-dev photo with it through the embedder's own
alignment and reports: cosine to the float templates (median / min), 10-fold verification,
1:N rank-1 and the pair ranking error (lfw.py, verification.py), and the minimum run time of
one chip against the float graph in the same process (60 alternating runs, 1 thread).
The quantised graphs are written to a temp folder and never used by the service
(docs/recognition.md section 6 says why none is shipped).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

import lfw
from verification import cross_validated_accuracy, ranking_error

from shared.engine.embedders import DLIB_EMBEDDER, SFACE_EMBEDDER, get_embedder, unit_rows  # noqa: E402  (lfw put the repo on sys.path)
from shared.engine.imaging import decode_image  # noqa: E402
from shared.engine.modelstore import default_store  # noqa: E402
from shared.engine.onnx_model import session_options  # noqa: E402

CALIBRATION_PHOTOS = 200
CATALOG_MODEL = {SFACE_EMBEDDER: "sface_2021dec", DLIB_EMBEDDER: "dlib_resnet_v1"}


@dataclass(frozen=True)
class Variant:
    embedder: str
    method: CalibrationMethod
    conv_only: bool  # quantise convolutions only, leaving the Relu arithmetic of PRelu in float
    fold_batch_norm: bool  # onnxruntime's quant_pre_process first
    reduce_range: bool = False  # 7-bit weights: no uint8 x int8 saturation on non-VNNI CPUs
    weights: QuantType = QuantType.QInt8


VARIANTS = {
    "sface-all-minmax": Variant(SFACE_EMBEDDER, CalibrationMethod.MinMax, False, False),
    "sface-conv-minmax": Variant(SFACE_EMBEDDER, CalibrationMethod.MinMax, True, True),
    "sface-conv-percentile": Variant(SFACE_EMBEDDER, CalibrationMethod.Percentile, True, True),
    "sface-conv-percentile-reduced": Variant(SFACE_EMBEDDER, CalibrationMethod.Percentile, True, True, reduce_range=True),
    "sface-conv-percentile-u8u8": Variant(SFACE_EMBEDDER, CalibrationMethod.Percentile, True, True, weights=QuantType.QUInt8),
    "dlib-conv-percentile": Variant(DLIB_EMBEDDER, CalibrationMethod.Percentile, True, True),
}


class Chips(CalibrationDataReader):
    def __init__(self, feeds: list[dict[str, np.ndarray]]):
        self._feeds = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def network_input(embedder_name: str, chip_bgr: np.ndarray) -> dict[str, np.ndarray]:
    """The float graph's feed for one chip, as the embedder builds it."""
    rgb = chip_bgr[..., ::-1].astype(np.float32)
    if embedder_name == SFACE_EMBEDDER:
        return {"data": np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])}
    return {"chips": np.ascontiguousarray(rgb[None])}


def quantise(variant: Variant, photos: list[lfw.Photo], points: np.ndarray, out: Path) -> None:
    embedder = get_embedder(variant.embedder)
    chosen = np.random.default_rng(0).choice(len(photos), CALIBRATION_PHOTOS, replace=False)
    feeds = [network_input(variant.embedder, embedder.align(decode_image(photos[i].path.read_bytes()), points[i]))
             for i in chosen]
    source = default_store().path(CATALOG_MODEL[variant.embedder])
    if variant.fold_batch_norm:
        folded = out.with_suffix(".folded.onnx")
        quant_pre_process(str(source), str(folded), skip_symbolic_shape=True)
        source = folded
    quantize_static(str(source), str(out), Chips(feeds), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=variant.weights, calibrate_method=variant.method,
                    op_types_to_quantize=["Conv"] if variant.conv_only else None, reduce_range=variant.reduce_range)


def open_session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), session_options(), providers=["CPUExecutionProvider"])


def templates_with(model: Path, embedder_name: str, photos: list[lfw.Photo], points: np.ndarray) -> np.ndarray:
    """Every photo's template from the embedder's chip run through ``model`` (an int8 graph),
    post-processed as the embedder does (SFace normalises, dlib does not)."""
    embedder, session = get_embedder(embedder_name), open_session(model)
    rows = [session.run(None, network_input(embedder_name, embedder.align(decode_image(photo.path.read_bytes()), face)))[0][0]
            for photo, face in zip(photos, points)]
    vectors = np.vstack(rows).astype(np.float32)
    return unit_rows(vectors) if embedder_name == SFACE_EMBEDDER else vectors


def check_feed(embedder_name: str, chip: np.ndarray) -> None:
    """network_input must feed the float graph exactly as the embedder does."""
    embedder = get_embedder(embedder_name)
    direct = open_session(default_store().path(CATALOG_MODEL[embedder_name])).run(None, network_input(embedder_name, chip))[0]
    if embedder_name == SFACE_EMBEDDER:
        direct = unit_rows(direct)
    if not np.allclose(direct, embedder.embed([chip]), atol=1e-4):
        raise AssertionError(f"network_input does not match {embedder_name}'s own preprocessing")


def fastest_ms(paths: list[Path], feed: dict[str, np.ndarray], runs: int = 60) -> list[float]:
    sessions = [open_session(path) for path in paths]
    best = [np.inf] * len(sessions)
    for _ in range(runs):
        for index, session in enumerate(sessions):
            start = time.perf_counter()
            session.run(None, feed)
            best[index] = min(best[index], (time.perf_counter() - start) * 1000)
    return best


def report(name: str, variant: Variant, photos: list[lfw.Photo], points: np.ndarray, scratch: Path) -> None:
    reference = lfw.templates(variant.embedder, photos)
    model = scratch / f"{name}.onnx"
    chip = get_embedder(variant.embedder).align(decode_image(photos[0].path.read_bytes()), points[0])
    check_feed(variant.embedder, chip)
    quantise(variant, photos, points, model)
    vectors = templates_with(model, variant.embedder, photos, points)
    cosines = (unit_rows(vectors) * unit_rows(reference)).sum(axis=1)
    pairs = lfw.pair_set(vectors, photos)
    cv, _ = cross_validated_accuracy(pairs.distances, pairs.same)
    rank1 = lfw.rank_one(vectors, photos)
    float_ms, int8_ms = fastest_ms([default_store().path(CATALOG_MODEL[variant.embedder]), model],
                                   network_input(variant.embedder, chip))
    print(f"| {name} | {np.median(cosines):.4f} / {cosines.min():.4f} | {cv:.4f} | {rank1.accuracy:.4f} | "
          f"{ranking_error(pairs.distances, pairs.same):.5f} | {int8_ms:.1f} (float {float_ms:.1f}) |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", nargs="*", choices=sorted(VARIANTS), default=sorted(VARIANTS))
    names = parser.parse_args().variants
    photos = lfw.photos()
    points = lfw.detections(photos)
    print("| variant | cosine to float, median / min | 10-fold CV | rank-1 | pair ranking error | min ms per chip |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            report(name, VARIANTS[name], photos, points, Path(scratch))


if __name__ == "__main__":
    main()

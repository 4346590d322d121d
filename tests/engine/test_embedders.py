"""Embedders: batching, normalisation, ArcFace configuration, the dlib embedder on real faces."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from shared.engine.detector import YuNetDetector
from shared.engine.embedders import (
    ArcFaceEmbedder,
    FusedEmbedder,
    get_embedder,
    parse_arcface_entry,
    unit_rows,
)
from shared.engine.imaging import decode_image
from shared.engine.landmarks import FaceMeshModel
from shared.engine.modelstore import ModelUnavailable, sha256_of


def _tiny_arcface(path: Path, batch: int | str = "N", size: int = 112) -> Path:
    """A random ArcFace-shaped network: NCHW 3 x size x size -> conv -> flatten -> gemm -> 128."""
    rng = np.random.default_rng(7)
    cells = (size // 16) ** 2 * 4
    weights = {
        "w": rng.normal(size=(4, 3, 16, 16)).astype(np.float32) / 100,
        "fc": rng.normal(size=(cells, 128)).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["input", "w"], ["conv"], kernel_shape=[16, 16], strides=[16, 16]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("Flatten", ["relu"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc"], ["embedding"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_arcface",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, size, size])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [batch, 128])],
        [numpy_helper.from_array(value, name) for name, value in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def _chips(n: int, size: int = 112) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(n)]


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    return _tiny_arcface(tmp_path / "tiny.onnx")


def test_arcface_vectors_are_unit_length_and_batch_independent(tiny_model: Path, monkeypatch) -> None:
    monkeypatch.setenv("FACE_ARCFACE_MODELS", f"tiny={tiny_model}")
    embedder = get_embedder("tiny")
    chips = _chips(5)
    batch = embedder.embed(chips)
    singles = np.vstack([embedder.embed([chip]) for chip in chips])
    assert batch.shape == (5, 128) and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(batch, singles, atol=1e-5)
    assert embedder.embed([]).shape == (0, 128)


def test_fixed_batch_of_one_models_still_batch(tmp_path: Path, monkeypatch) -> None:
    path = _tiny_arcface(tmp_path / "fixed.onnx", batch=1)
    monkeypatch.setenv("FACE_ARCFACE_MODELS", f"fixed={path}")
    assert get_embedder("fixed").embed(_chips(3)).shape == (3, 128)


def test_arcface_options_change_preprocessing(tiny_model: Path) -> None:
    chip = _chips(1)
    rgb = ArcFaceEmbedder(parse_arcface_entry(f"a={tiny_model}")).embed(chip)
    bgr = ArcFaceEmbedder(parse_arcface_entry(f"b={tiny_model};color=bgr")).embed(chip)
    flipped = ArcFaceEmbedder(parse_arcface_entry(f"c={tiny_model};color=bgr")).embed([chip[0][..., ::-1].copy()])
    assert not np.allclose(rgb, bgr)
    np.testing.assert_allclose(rgb, flipped, atol=1e-6)


def test_arcface_chip_size_comes_from_the_model(tmp_path: Path) -> None:
    embedder = ArcFaceEmbedder(parse_arcface_entry(f"big={_tiny_arcface(tmp_path / 'b.onnx', size=128)}"))
    image = np.zeros((300, 300, 3), np.uint8)
    points = np.array([[120, 130], [180, 130], [150, 160], [125, 190], [175, 190]], np.float32)
    chip = embedder.align(image, points)
    assert chip.shape == (128, 128, 3)
    assert embedder.embed([chip]).shape == (1, 128)


def test_version_defaults_to_the_file_hash_and_sha256_is_checked(tiny_model: Path) -> None:
    digest = sha256_of(tiny_model)
    assert ArcFaceEmbedder(parse_arcface_entry(f"t={tiny_model}")).version == digest[:12]
    assert ArcFaceEmbedder(parse_arcface_entry(f"t={tiny_model};version=7")).version == "7"
    wrong = ArcFaceEmbedder(parse_arcface_entry(f"t={tiny_model};sha256={'0' * 64}"))
    with pytest.raises(ModelUnavailable, match="sha256"):
        wrong.embed(_chips(1))


@pytest.mark.parametrize("entry", ["noequals", "=/x.onnx", "dlib_resnet_v1=/x.onnx", "sface=/x.onnx",
                                   "dlib_sface=/x.onnx", "a=/x.onnx;colour=rgb",
                                   "a=/x.onnx;layout=chw", "a=/x.onnx;mean=abc"])
def test_bad_arcface_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        parse_arcface_entry(entry)


def test_unknown_or_missing_models_raise_model_unavailable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FACE_ARCFACE_MODELS", f"gone={tmp_path / 'missing.onnx'}")
    with pytest.raises(ModelUnavailable):
        get_embedder("nobody")
    with pytest.raises(ModelUnavailable, match="not found"):
        get_embedder("gone").warm_up()


def test_get_embedder_is_cached() -> None:
    assert get_embedder("dlib_resnet_v1") is get_embedder("dlib_resnet_v1")


@pytest.fixture(scope="module")
def obama_and_other(faces_dir: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    detector, faces = YuNetDetector(), []
    for name in ("obama/1.jpg", "obama/2.jpg", "kit_harington/1.jpg"):
        image = decode_image((faces_dir / "persons" / name).read_bytes())
        faces.append((image, detector.detect(image)[0].points5))
    return faces


@pytest.mark.parametrize("name,side,version,unit_length", [
    ("dlib_resnet_v1", 150, "1", False),  # dlib's raw descriptors
    ("sface", 112, "2021dec", True),
])
def test_built_in_embedders_batch_and_separate_people(obama_and_other, name, side, version, unit_length) -> None:
    embedder = get_embedder(name)
    chips = [embedder.align(image, points) for image, points in obama_and_other]
    assert chips[0].shape == (side, side, 3)
    batch = embedder.embed(chips)
    np.testing.assert_allclose(batch, np.vstack([embedder.embed([c]) for c in chips]), atol=1e-5)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5) == unit_length
    same, different = (np.linalg.norm(batch[0] - batch[i]) for i in (1, 2))
    assert same < embedder.calibration.threshold < different
    assert (embedder.name, embedder.version, embedder.calibration.calibrated) == (name, version, True)


def test_fused_template_distance_is_the_weighted_cosine_of_its_parts(obama_and_other) -> None:
    fused = get_embedder("dlib_sface")
    dlib, sface = get_embedder("dlib_resnet_v1"), get_embedder("sface")
    assert fused.parts == (dlib, sface) and fused.version == f"1+2021dec+w{fused.weights[0]:g}:{fused.weights[1]:g}"
    chips = [fused.align(image, points) for image, points in obama_and_other]
    vectors = fused.embed(chips)
    assert vectors.shape == (3, 256) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = [unit_rows(part.embed([chip[i] for chip in chips])) for i, part in enumerate(fused.parts)]
    expected = sum(w * (c @ c.T) for w, c in zip(fused.weights, cosines))
    np.testing.assert_allclose(vectors @ vectors.T, expected, atol=1e-5)
    distance = np.linalg.norm(vectors[0] - vectors[1])
    np.testing.assert_allclose(distance, np.sqrt(2 - 2 * expected[0, 1]), atol=1e-5)
    assert distance < fused.calibration.threshold < np.linalg.norm(vectors[0] - vectors[2])


def test_fused_chips_are_the_parts_own_chips_cut_after_one_mesh_pass(obama_and_other, monkeypatch) -> None:
    fused = get_embedder("dlib_sface")
    alone = [tuple(part.align(image, points) for part in fused.parts) for image, points in obama_and_other]
    runs = []
    run_mesh = FaceMeshModel.mesh
    monkeypatch.setattr(FaceMeshModel, "mesh", lambda self, *args: runs.append(1) or run_mesh(self, *args))
    together = [fused.align(image, points) for image, points in obama_and_other]
    assert len(runs) == len(obama_and_other)  # one face-mesh pass per face for both parts
    assert fused.uses_mesh and not get_embedder("sface").uses_mesh
    for own, shared in zip(alone, together):
        for own_chip, shared_chip in zip(own, shared):
            # One halved crop serves both chips; only the warp's fixed-point rounding may differ.
            assert own_chip.shape == shared_chip.shape
            assert np.abs(own_chip.astype(int) - shared_chip.astype(int)).max() <= 1


def test_fused_weights_must_be_a_split_of_one() -> None:
    parts = (get_embedder("dlib_resnet_v1"), get_embedder("sface"))
    calibration = get_embedder("sface").calibration
    for weights in ((0.5, 0.6), (1.2, -0.2), (1.0,)):
        with pytest.raises(ValueError):
            FusedEmbedder("f", parts, weights, calibration)

"""The .tflite -> ONNX builder: converted graphs load in onnxruntime and see a face."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from shared.engine.detector import YuNetDetector
from shared.engine.imaging import decode_image
from shared.engine.alignment import mesh_crop
from shared.engine.landmarks import MESH_SIZE
from shared.engine.mediapipe_onnx import build_onnx
from shared.engine.modelstore import default_store
from tests.engine.conftest import read_bytes


def _converted(name: str, tmp_path: Path) -> ort.InferenceSession:
    out = tmp_path / f"{name}.onnx"
    build_onnx(default_store().path(f"{name}_tflite"), out)
    return ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def face_crop(faces_dir: Path) -> np.ndarray:
    """A 192x192 RGB face crop in [0, 1], NCHW, cut the way the landmarker cuts it."""
    image = decode_image(read_bytes(faces_dir / "persons" / "obama" / "1.jpg"))
    face = YuNetDetector().detect(image)[0]
    crop = cv2.cvtColor(mesh_crop(face.points5).crop(image, MESH_SIZE), cv2.COLOR_BGR2RGB)
    return (crop.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]


def test_face_landmark_converts_and_finds_the_face(tmp_path, face_crop):
    session = _converted("face_landmark", tmp_path)
    assert session.get_inputs()[0].shape == [1, 3, MESH_SIZE, MESH_SIZE]
    mesh, flag = session.run(None, {session.get_inputs()[0].name: face_crop})
    points = mesh.reshape(-1, 3)
    assert points.shape == (468, 3)
    assert 1 / (1 + np.exp(-flag.item())) > 0.9  # the model's own "face present" score
    # The face fills the middle of the 1.5x crop: every point well inside it.
    assert points[:, :2].min() > 0.05 * MESH_SIZE and points[:, :2].max() < 0.95 * MESH_SIZE
    # Image-left eye corner (33) left of the image-right one (263); nose tip (4) below both.
    assert points[33, 0] < points[263, 0] and points[4, 1] > max(points[33, 1], points[263, 1])


def test_iris_landmark_converts_and_finds_the_pupil(tmp_path, face_crop):
    mesh = _converted("face_landmark", tmp_path)
    points = mesh.run(None, {mesh.get_inputs()[0].name: face_crop})[0].reshape(-1, 3)
    session = _converted("iris_landmark", tmp_path)
    assert session.get_inputs()[0].shape == [1, 3, 64, 64]
    # Eye crop straight from the face crop: 2.3x the corner distance around corners 33/133.
    corners = points[[33, 133], :2]
    centre, side = corners.mean(axis=0), 2.3 * abs(corners[1, 0] - corners[0, 0])
    image = (face_crop[0].transpose(1, 2, 0) * 255).astype(np.uint8)
    x0, y0 = centre - side / 2
    scale = 64 / side
    eye = cv2.warpAffine(image, np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]]), (64, 64))
    contour, iris = session.run(None, {session.get_inputs()[0].name: (eye / 255.0).astype(np.float32).transpose(2, 0, 1)[None]})
    assert contour.shape == (1, 213) and iris.shape == (1, 15)
    pupil = iris.reshape(-1, 3)[0, :2]
    # The pupil sits near the middle of the eye crop, between the corners.
    assert np.all(np.abs(pupil - 32) < 12), pupil


def test_rejects_a_non_tflite_source(tmp_path):
    bogus = tmp_path / "bogus.tflite"
    bogus.write_bytes(b"not a flatbuffer")
    with pytest.raises(Exception):
        build_onnx(bogus, tmp_path / "out.onnx")

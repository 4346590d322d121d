"""Azure's 27 landmarks on real photos: plausible anatomy, Azure's left/right, image pixels."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shared.engine.detector import YuNetDetector
from shared.engine.imaging import decode_image
from shared.engine.landmarks import LANDMARK_NAMES, FaceMeshLandmarker, _to_tensor
from shared.engine.types import DetectedFace
from tests.engine.conftest import read_bytes

# Near-frontal photos of different people (checked by eye), used for the anatomy checks.
FRONTAL = ("obama/1.jpg", "kit_harington/1.jpg", "deepface_person01/1.jpg", "alex_lacamoire/1.jpg",
           "deepface_person02/1.jpg", "deepface_person05/1.jpg")


@pytest.fixture(scope="session")
def landmarker() -> FaceMeshLandmarker:
    return FaceMeshLandmarker()


@pytest.fixture(scope="session")
def detector() -> YuNetDetector:
    return YuNetDetector()


def detect_one(detector: YuNetDetector, image: np.ndarray) -> DetectedFace:
    faces = detector.detect(image)
    assert faces, "no face detected"
    return faces[0]


def load(faces_dir: Path, relative: str) -> np.ndarray:
    return decode_image(read_bytes(faces_dir / "persons" / relative))


@pytest.fixture(scope="session", params=FRONTAL)
def frontal(request, faces_dir, detector, landmarker):
    image = load(faces_dir, request.param)
    face = detect_one(detector, image)
    return face, landmarker.landmarks27(image, face.points5)


def test_names_in_spec_order_as_floats(frontal):
    _, marks = frontal
    assert tuple(marks) == LANDMARK_NAMES and len(marks) == 27
    assert all(isinstance(v, float) for point in marks.values() for v in point)


def test_left_is_image_left_like_azure(frontal):
    _, m = frontal
    for part in ("pupil", "mouth"):
        assert m[f"{part}Left"][0] < m[f"{part}Right"][0]
    assert m["eyeLeftOuter"][0] < m["eyeLeftInner"][0] < m["eyeRightInner"][0] < m["eyeRightOuter"][0]
    assert m["eyebrowLeftOuter"][0] < m["eyebrowLeftInner"][0] < m["eyebrowRightInner"][0] < m["eyebrowRightOuter"][0]
    assert m["noseLeftAlarOutTip"][0] < m["noseLeftAlarTop"][0] < m["noseRightAlarTop"][0] < m["noseRightAlarOutTip"][0]
    assert m["noseRootLeft"][0] < m["noseRootRight"][0]


@pytest.mark.parametrize("side", ["Left", "Right"])
def test_pupils_inside_the_eye_outline(frontal, side):
    _, m = frontal
    x, y = m[f"pupil{side}"]
    xs = sorted((m[f"eye{side}Outer"][0], m[f"eye{side}Inner"][0]))
    assert xs[0] < x < xs[1]
    assert m[f"eye{side}Top"][1] - 2 < y < m[f"eye{side}Bottom"][1] + 2  # 2 px: pupils peek under lids
    assert m[f"eyebrow{side}Inner"][1] < m[f"eye{side}Top"][1]


def test_vertical_order_of_the_face(frontal):
    _, m = frontal
    eyes_y = max(m["pupilLeft"][1], m["pupilRight"][1])
    mouth_y = min(m["mouthLeft"][1], m["mouthRight"][1], m["upperLipTop"][1])
    assert eyes_y < m["noseTip"][1] < mouth_y
    top, upper_inner, lower_inner, bottom = (m[name][1] for name in
                                             ("upperLipTop", "upperLipBottom", "underLipTop", "underLipBottom"))
    assert top < min(upper_inner, lower_inner) and max(upper_inner, lower_inner) < bottom
    assert upper_inner < lower_inner + 2  # a closed mouth puts both inner lip edges on one line
    assert m["noseRootLeft"][1] < m["noseLeftAlarTop"][1] < m["noseLeftAlarOutTip"][1]


def test_points_inside_the_face_rectangle(frontal):
    face, m = frontal
    r = face.rectangle
    margin = 0.1 * max(r.width, r.height)
    for name, (x, y) in m.items():
        assert r.left - margin < x < r.left + r.width + margin, name
        assert r.top - margin < y < r.top + r.height + margin, name


def test_points_follow_the_face_when_the_image_is_shifted(faces_dir, detector, landmarker):
    """Coordinates are image pixels: padding the image moves every point by the padding."""
    image = load(faces_dir, "obama/1.jpg")
    padded = np.pad(image, ((40, 0), (25, 0), (0, 0)), mode="edge")
    face = detect_one(detector, image)
    shifted = DetectedFace(
        rectangle=type(face.rectangle)(face.rectangle.left + 25, face.rectangle.top + 40,
                                       face.rectangle.width, face.rectangle.height),
        score=face.score, points5=face.points5 + np.array([25, 40], np.float32),
    )
    a = landmarker.landmarks27(image, face.points5)
    b = landmarker.landmarks27(padded, shifted.points5)
    for name in LANDMARK_NAMES:
        assert np.allclose(np.subtract(b[name], a[name]), (25, 40), atol=0.5), name


def test_dense_mesh_matches_named_points(faces_dir, detector, landmarker):
    """``mesh`` (no iris refinement, for head pose) agrees with the named points off the eyes."""
    image = load(faces_dir, "obama/1.jpg")
    face = detect_one(detector, image)
    mesh = landmarker.mesh(image, face.points5)
    marks = landmarker.landmarks27(image, face.points5)
    assert mesh.shape == (468, 3)
    assert np.allclose(mesh[4, :2], marks["noseTip"]) and np.allclose(mesh[291, :2], marks["mouthRight"])


def test_crop_tensor_is_rgb_nchw_in_0_1() -> None:
    crop = np.random.default_rng(6).integers(0, 256, (192, 192, 3), dtype=np.uint8)
    tensor = _to_tensor(crop)
    assert tensor.flags.c_contiguous and tensor.dtype == np.float32
    np.testing.assert_array_equal(tensor, (crop[:, :, ::-1].astype(np.float32) / 255.0).transpose(2, 0, 1)[None])

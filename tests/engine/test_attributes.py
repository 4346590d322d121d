"""Face attributes: head pose conventions, image-quality measures, Azure's attribute rules."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from shared.engine import image_quality
from shared.engine.attributes import compute_attributes, quality_for_recognition, validate_attribute_names
from shared.engine.head_pose import head_pose
from shared.errors import BadArgument
from tests.engine.test_landmarks import detect_one, detector, landmarker, load  # noqa: F401 (fixtures)


def pose_of(image, detector, landmarker) -> dict:
    face = detect_one(detector, image)
    return head_pose(landmarker.mesh(image, face.points5))


# ---- head pose ---------------------------------------------------------------------------

def _rotate_mesh(mesh: np.ndarray, axis: str, degrees: float) -> np.ndarray:
    """Rotate a camera-frame mesh (x right, y down, z away) about its centroid."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    matrix = {"x": [[1, 0, 0], [0, c, -s], [0, s, c]], "y": [[c, 0, s], [0, 1, 0], [-s, 0, c]],
              "z": [[c, -s, 0], [s, c, 0], [0, 0, 1]]}[axis]
    centre = mesh.mean(axis=0)
    return (mesh - centre) @ np.array(matrix).T + centre


@pytest.fixture(scope="module")
def frontal_mesh(faces_dir, detector, landmarker):
    image = load(faces_dir, "obama/1.jpg")
    face = detect_one(detector, image)
    return landmarker.mesh(image, face.points5)


@pytest.mark.parametrize(("axis", "degrees", "angle", "sign"), [
    ("z", 10, "roll", +1),  # camera z: clockwise in the image (image-right eye goes down)
    ("y", -15, "yaw", +1),  # forward (toward the camera, -z) swings to +x: face turns image-right
    ("x", -15, "pitch", +1),  # forward swings to -y: the face looks up
])
def test_sign_conventions_on_a_rotated_mesh(frontal_mesh, axis, degrees, angle, sign):
    before = head_pose(frontal_mesh)
    after = head_pose(_rotate_mesh(frontal_mesh, axis, degrees))
    assert after[angle] - before[angle] == pytest.approx(sign * abs(degrees), abs=1.5)


def test_roll_follows_an_image_rotation(faces_dir, detector, landmarker):
    image = load(faces_dir, "obama/1.jpg")
    h, w = image.shape[:2]
    # cv2: positive angle = counter-clockwise on screen, i.e. roll goes down by 15.
    rotated = cv2.warpAffine(image, cv2.getRotationMatrix2D((w / 2, h / 2), 15, 1.0), (w, h),
                             borderMode=cv2.BORDER_REPLICATE)
    delta = pose_of(rotated, detector, landmarker)["roll"] - pose_of(image, detector, landmarker)["roll"]
    assert delta == pytest.approx(-15, abs=3)


@pytest.mark.parametrize("photo", ["kit_harington/2.jpg", "obama/4.jpg"])  # clearly turned faces
def test_mirroring_flips_yaw_and_roll(faces_dir, detector, landmarker, photo):
    image = load(faces_dir, photo)
    pose = pose_of(image, detector, landmarker)
    mirrored = pose_of(np.ascontiguousarray(image[:, ::-1]), detector, landmarker)
    assert abs(pose["yaw"]) > 10
    assert mirrored["yaw"] == pytest.approx(-pose["yaw"], abs=4)
    assert mirrored["roll"] == pytest.approx(-pose["roll"], abs=3)
    # Pitch keeps its sign; the mesh is not exactly mirror-symmetric: over the 62 test photos
    # the pitch of a photo and of its mirror differ by 1.5 degrees on average, 3.2 at the
    # 90th percentile and 5.8 at most (detector at its default input scale).
    assert mirrored["pitch"] == pytest.approx(pose["pitch"], abs=6)


# ---- image quality -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def portrait(faces_dir, detector):
    image = load(faces_dir, "obama/1.jpg")
    return image, detect_one(detector, image).rectangle


def test_blur_grows_with_gaussian_blur(portrait):
    image, rect = portrait
    values = [image_quality.blur_value(image_quality.face_gray(cv2.GaussianBlur(image, (0, 0), sigma), rect))
              if sigma else image_quality.blur_value(image_quality.face_gray(image, rect)) for sigma in (0, 2, 4)]
    assert values[0] < values[1] < values[2]
    assert image_quality.blur(image_quality.face_gray(image, rect))["blurLevel"] == "low"
    blurred = image_quality.face_gray(cv2.GaussianBlur(image, (0, 0), 6), rect)
    assert image_quality.blur(blurred)["blurLevel"] == "high"


@pytest.mark.parametrize(("alpha", "beta", "expected"), [
    (1.0, 0, "goodExposure"), (0.3, 0, "underExposure"), (2.0, 60, "overExposure"),
])
def test_exposure_levels(portrait, alpha, beta, expected):
    image, rect = portrait
    gray = image_quality.face_gray(cv2.convertScaleAbs(image, alpha=alpha, beta=beta), rect)
    assert image_quality.exposure(gray)["exposureLevel"] == expected


def test_noise_grows_with_added_noise(portrait):
    image, rect = portrait
    rng = np.random.default_rng(7)

    def noisy(sigma: float) -> dict:
        pixels = np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)
        return image_quality.noise(image_quality.face_gray(pixels, rect))

    levels = [noisy(sigma) for sigma in (0, 10, 25)]
    assert levels[0]["value"] < levels[1]["value"] < levels[2]["value"]
    assert [level["noiseLevel"] for level in levels] == ["low", "medium", "high"]


@pytest.mark.parametrize(("value", "bands", "expected"), [
    (0.0, image_quality.EXPOSURE_BANDS, "underExposure"), (0.25, image_quality.EXPOSURE_BANDS, "goodExposure"),
    (0.75, image_quality.EXPOSURE_BANDS, "overExposure"), (1.0, image_quality.EXPOSURE_BANDS, "overExposure"),
    (0.29, image_quality.NOISE_BANDS, "low"), (0.3, image_quality.NOISE_BANDS, "medium"),
    (0.7, image_quality.NOISE_BANDS, "high"),
])
def test_azure_band_edges(value, bands, expected):
    assert image_quality.level(value, bands) == expected


# ---- attribute names and results ---------------------------------------------------------

@pytest.mark.parametrize(("names", "detection", "recognition", "fragment"), [
    (("headPose",), "detection_02", "recognition_04", "not supported by detection model 'detection_02'"),
    (("noise",), "detection_03", "recognition_04", "'noise' is not supported"),
    (("mask",), "detection_01", "recognition_04", "'mask' is not supported"),
    (("qualityForRecognition",), "detection_01", "recognition_01", "recognition_03 or recognition_04"),
    (("qualityForRecognition",), "detection_03", None, "recognition_03 or recognition_04"),
    (("glasses",), "detection_03", "recognition_04", "'glasses' is not supported"),
    (("occlusion",), "detection_03", "recognition_04", "'occlusion' is not supported"),
    (("accessories",), "detection_02", "recognition_04", "'accessories' is not supported"),
    (("bogus",), "detection_01", "recognition_04", "unknown attribute 'bogus'"),
    (("age",), "detection_01", "recognition_04", "'age' is not available: this service does not compute it"),
    (("emotion",), "detection_01", "recognition_01", "'emotion' is not available"),
])
def test_rejected_attribute_names(names, detection, recognition, fragment):
    with pytest.raises(BadArgument) as error:
        validate_attribute_names(names, detection, recognition)
    assert fragment in error.value.message and error.value.status == 400


@pytest.mark.parametrize(("names", "detection", "recognition"), [
    ((), "detection_02", None),
    (("headPose", "blur", "exposure", "noise"), "detection_01", "recognition_01"),
    (("headPose", "blur", "qualityForRecognition"), "detection_03", "recognition_04"),
    (("headPose", "mask"), "detection_03", None),
    (("glasses", "occlusion", "accessories"), "detection_01", None),
])
def test_accepted_attribute_names(names, detection, recognition):
    validate_attribute_names(names, detection, recognition)


def test_compute_attributes_shapes(faces_dir, detector):
    image = load(faces_dir, "obama/1.jpg")
    face = detect_one(detector, image)
    names = ("qualityForRecognition", "headPose", "blur", "exposure", "noise")
    result = compute_attributes(image, face, names, "detection_01", "recognition_04")
    assert tuple(result) == names
    assert set(result["headPose"]) == {"pitch", "roll", "yaw"}
    assert all(isinstance(v, float) for v in result["headPose"].values())
    for name, key in (("blur", "blurLevel"), ("exposure", "exposureLevel"), ("noise", "noiseLevel")):
        assert set(result[name]) == {key, "value"} and 0.0 <= result[name]["value"] <= 1.0
    assert result["qualityForRecognition"] == "high"  # large, sharp, well-lit, frontal
    assert compute_attributes(image, face, ("blur",), "detection_03", None) == {"blur": result["blur"]}


def test_compute_attributes_refuses_what_it_cannot_measure(faces_dir, detector):
    image = load(faces_dir, "obama/1.jpg")
    with pytest.raises(BadArgument):
        compute_attributes(image, detect_one(detector, image), ("smile",), "detection_01", None)


@pytest.mark.parametrize(("side", "blur", "exposure", "noise", "pose", "expected"), [
    (200, "low", "goodExposure", "low", 5, "high"),
    (200, "medium", "goodExposure", "low", 5, "medium"),
    (90, "low", "goodExposure", "low", 5, "medium"),
    (200, "low", "goodExposure", "low", 30, "medium"),
    (40, "low", "goodExposure", "low", 5, "low"),
    (200, "high", "goodExposure", "low", 5, "low"),
    (200, "low", "underExposure", "low", 5, "low"),
    (200, "low", "goodExposure", "high", 5, "low"),
    (200, "low", "goodExposure", "low", 50, "low"),
])
def test_quality_for_recognition_rule(side, blur, exposure, noise, pose, expected):
    result = quality_for_recognition(
        side, {"blurLevel": blur}, {"exposureLevel": exposure}, {"noiseLevel": noise},
        {"yaw": pose, "pitch": 0.0, "roll": 0.0},
    )
    assert result == expected

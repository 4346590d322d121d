"""The engine facade end to end on the shared photos, plus its option rules."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from shared.engine.modelstore import ModelUnavailable
from shared.engine.engine import DEFAULT_EMBEDDERS, embedder_for, get_engine, recognition_embedders, validate_options
from shared.engine.landmarks import FaceMeshModel
from shared.engine.types import DetectOptions, Rectangle
from shared.errors import BadArgument, InvalidImage
from tests.engine.conftest import read_bytes

GROUP_PHOTO = "facenet-pytorch_multiface.jpg"


@pytest.fixture(scope="module")
def engine():
    return get_engine()


@pytest.mark.parametrize(
    "options",
    [
        DetectOptions(detection_model="detection_04"),
        DetectOptions(recognition_models=("recognition_05",)),
        DetectOptions(detection_model="detection_02", return_landmarks=True),
        DetectOptions(detection_model="detection_02", attributes=("headPose",)),
        DetectOptions(detection_model="detection_01", attributes=("mask",)),
        DetectOptions(detection_model="detection_03", attributes=("age",)),
        DetectOptions(attributes=("gender",)),
        DetectOptions(attributes=("qualityForRecognition",), recognition_models=("recognition_01",)),
        DetectOptions(detection_model="detection_02", attributes=("qualityForRecognition",), recognition_models=("recognition_04",)),
    ],
)
def test_invalid_option_combinations_are_rejected_before_decoding(engine, options):
    with pytest.raises(BadArgument):
        engine.detect(b"not even an image", options)


@pytest.mark.parametrize(
    "options",
    [
        DetectOptions(detection_model="detection_03", attributes=("headPose", "blur", "qualityForRecognition"), recognition_models=("recognition_04",)),
        DetectOptions(detection_model="detection_02", recognition_models=("recognition_03",)),
        DetectOptions(attributes=("headPose", "blur", "exposure", "noise"), return_landmarks=True),
    ],
)
def test_valid_option_combinations_pass(options):
    validate_options(options)


def test_recognition_embedders_setting(monkeypatch):
    assert recognition_embedders() == DEFAULT_EMBEDDERS
    assert DEFAULT_EMBEDDERS == {"recognition_01": "dlib_resnet_v1", "recognition_02": "dlib_resnet_v1",
                                 "recognition_03": "sface", "recognition_04": "dlib_sface"}
    assert [embedder_for(model) for model in ("recognition_01", "recognition_03", "recognition_04")] == [
        "dlib_resnet_v1", "sface", "dlib_sface"]
    monkeypatch.setenv("FACE_RECOGNITION_EMBEDDERS", "recognition_04=other, recognition_03 = third")
    mapping = recognition_embedders()
    assert mapping["recognition_04"] == "other" and mapping["recognition_03"] == "third" and mapping["recognition_01"] == "dlib_resnet_v1"
    assert embedder_for("recognition_04") == "other"
    monkeypatch.setenv("FACE_RECOGNITION_EMBEDDERS", "recognition_09=x")
    with pytest.raises(ValueError, match="recognition_09"):
        recognition_embedders()


def test_detect_with_everything(engine, person_photos):
    options = DetectOptions(recognition_models=("recognition_01", "recognition_02", "recognition_03", "recognition_04"),
                            return_landmarks=True, attributes=("headPose",))
    (face,) = engine.detect(read_bytes(person_photos[0]), options)
    assert len(face.landmarks) == 27 and "pupilLeft" in face.landmarks
    assert set(face.attributes) == {"headPose"}
    first, third, fourth = (face.templates[f"recognition_0{n}"] for n in (1, 3, 4))
    assert (first.recognition_model, third.recognition_model, fourth.recognition_model) == (
        "recognition_01", "recognition_03", "recognition_04")
    assert (first.embedder, third.embedder, fourth.embedder) == ("dlib_resnet_v1", "sface", "dlib_sface")
    assert first.vector.dtype == third.vector.dtype == fourth.vector.dtype == np.float32
    assert (first.vector.shape, third.vector.shape, fourth.vector.shape) == ((128,), (128,), (256,))
    assert face.templates["recognition_02"].vector is first.vector  # one dlib embedding shared by both names


def test_landmarks_and_head_pose_share_one_face_mesh(engine, person_photos, monkeypatch):
    data = read_bytes(person_photos[0])
    (pose_only,) = engine.detect(data, DetectOptions(attributes=("headPose",)))
    (landmarks_only,) = engine.detect(data, DetectOptions(return_landmarks=True))
    runs = []
    run_mesh = FaceMeshModel.mesh
    monkeypatch.setattr(FaceMeshModel, "mesh", lambda self, *args: runs.append(1) or run_mesh(self, *args))
    (both,) = engine.detect(data, DetectOptions(return_landmarks=True, attributes=("headPose",)))
    assert len(runs) == 1  # the landmarker's one pass; headPose reads the mesh before iris refinement
    assert both.attributes == pose_only.attributes and both.landmarks == landmarks_only.landmarks


def test_landmarks_and_dlib_alignment_share_one_face_mesh_pass(engine, person_photos, monkeypatch):
    data = read_bytes(person_photos[0])
    dlib_only = DetectOptions(recognition_models=("recognition_01",), embedders={"recognition_01": "dlib_resnet_v1"})
    (alone,) = engine.detect(data, dlib_only)
    runs = []
    run_mesh = FaceMeshModel.mesh
    monkeypatch.setattr(FaceMeshModel, "mesh", lambda self, *args: runs.append(1) or run_mesh(self, *args))
    (both,) = engine.detect(data, DetectOptions(recognition_models=("recognition_01",), return_landmarks=True,
                                                embedders={"recognition_01": "dlib_resnet_v1"}))
    assert len(runs) == 1  # dlib's chip is cut from the landmarks' mesh
    np.testing.assert_array_equal(both.templates["recognition_01"].vector, alone.templates["recognition_01"].vector)


def test_the_fused_default_of_recognition_04_runs_one_face_mesh_pass_shared_with_landmarks(engine, person_photos,
                                                                                           monkeypatch):
    data = read_bytes(person_photos[0])
    fused = DetectOptions(recognition_models=("recognition_04",))
    (alone,) = engine.detect(data, fused)
    runs = []
    run_mesh = FaceMeshModel.mesh
    monkeypatch.setattr(FaceMeshModel, "mesh", lambda self, *args: runs.append(1) or run_mesh(self, *args))
    engine.detect(data, fused)
    assert len(runs) == 1  # dlib's part reads it, SFace's needs none
    (both,) = engine.detect(data, DetectOptions(recognition_models=("recognition_04",), return_landmarks=True))
    assert len(runs) == 2  # the landmarks' pass is the one dlib's chip is cut from
    np.testing.assert_array_equal(both.templates["recognition_04"].vector, alone.templates["recognition_04"].vector)


def test_nothing_extra_is_computed_unless_asked(engine, person_photos):
    (face,) = engine.detect(read_bytes(person_photos[0]), DetectOptions())
    assert face.landmarks is None and face.attributes == {} and face.templates == {}


def test_no_face_gives_an_empty_list(engine, faces_dir):
    options = DetectOptions(recognition_models=("recognition_01",), return_landmarks=True)
    assert engine.detect(read_bytes(faces_dir / "noface" / "skimage_chelsea.png"), options) == []


def test_batched_templates_match_single_face_embedding(engine, faces_dir):
    data = read_bytes(faces_dir / "multi" / GROUP_PHOTO)
    options = DetectOptions(recognition_models=("recognition_01",))
    faces = engine.detect(data, options)
    assert len(faces) == 6 and all("recognition_01" in f.templates for f in faces)
    for face in faces[:2]:
        (alone,) = engine.detect(data, DetectOptions(recognition_models=("recognition_01",), target_face=face.rectangle))
        assert alone.rectangle == face.rectangle
        np.testing.assert_allclose(alone.templates["recognition_01"].vector, face.templates["recognition_01"].vector, atol=1e-4)


def test_an_embedder_named_by_the_caller_overrides_the_default(engine, person_photos):
    data = read_bytes(person_photos[0])
    (face,) = engine.detect(data, DetectOptions(recognition_models=("recognition_04",),
                                                embedders={"recognition_04": "dlib_resnet_v1"}))
    assert face.templates["recognition_04"].embedder == "dlib_resnet_v1"
    with pytest.raises(ModelUnavailable, match="no-such-embedder"):
        engine.detect(data, DetectOptions(recognition_models=("recognition_04",),
                                          embedders={"recognition_04": "no-such-embedder"}))


def test_target_face_picks_the_overlapping_face(engine, faces_dir):
    data = read_bytes(faces_dir / "multi" / GROUP_PHOTO)
    faces = engine.detect(data, DetectOptions())
    box = faces[3].rectangle
    loose = Rectangle(box.left - 6, box.top - 4, box.width + 12, box.height + 10)
    (picked,) = engine.detect(data, DetectOptions(target_face=loose))
    assert picked.rectangle == box


def test_target_face_without_a_face_is_invalid_image(engine, faces_dir):
    data = read_bytes(faces_dir / "multi" / GROUP_PHOTO)
    with pytest.raises(InvalidImage, match="targetFace"):
        engine.detect(data, DetectOptions(target_face=Rectangle(0, 0, 30, 30)))


def test_target_face_outside_the_image_is_bad_argument(engine, faces_dir):
    data = read_bytes(faces_dir / "multi" / GROUP_PHOTO)
    with pytest.raises(BadArgument, match="targetFace"):
        engine.detect(data, DetectOptions(target_face=Rectangle(1000, 500, 100, 100)))


def test_liveness_on_the_largest_face(engine, liveness_dir, faces_dir):
    face, score = engine.liveness(read_bytes(liveness_dir / "live" / "image_T1.jpg"))
    assert face is not None and score.is_live
    face, score = engine.liveness(read_bytes(liveness_dir / "spoof" / "image_F2.jpg"))
    assert not score.is_live
    assert engine.liveness(read_bytes(faces_dir / "noface" / "skimage_coffee.png")) == (None, None)


def test_concurrent_detects_match_sequential_results(engine, person_photos):
    photos = [read_bytes(p) for p in person_photos[:8]]
    options = DetectOptions(recognition_models=("recognition_01",))

    def vector(data: bytes) -> np.ndarray:
        (face,) = engine.detect(data, options)
        return face.templates["recognition_01"].vector

    sequential = [vector(data) for data in photos]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(vector, photos * 2))
    for index, result in enumerate(concurrent):
        np.testing.assert_allclose(result, sequential[index % len(photos)], atol=1e-5)


def test_get_engine_is_one_instance_across_threads():
    with ThreadPoolExecutor(max_workers=8) as pool:
        engines = list(pool.map(lambda _: get_engine(), range(16)))
    assert all(e is engines[0] for e in engines)

"""YuNet detector on the shared photos: counts, geometry, and Azure's small-face promise."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from shared.engine.detector import YuNetDetector, clip_rectangle, nms, to_input_tensor
from shared.engine.imaging import decode_image
from tests.engine.conftest import read_bytes

MULTI_COUNTS = {  # MANIFEST: YuNet faces at score >= 0.8
    "deepface_couple.jpg": 2,
    "deepface_selfie-many-people.jpg": 5,
    "facenet-pytorch_multiface.jpg": 6,
    "face_recognition_two_people.jpg": 2,
    "face_recognition_obama_and_biden.jpg": 3,
    "face_recognition_kit_with_rose.jpg": 2,
}


@pytest.fixture(scope="module")
def detector() -> YuNetDetector:
    return YuNetDetector()


def test_every_person_photo_has_exactly_one_face(detector, person_photos):
    assert len(person_photos) == 62
    counts = {path.name: len(detector.detect(decode_image(read_bytes(path)))) for path in person_photos}
    assert set(counts.values()) == {1}, counts


def test_no_face_photos_have_none(detector, faces_dir):
    for path in sorted((faces_dir / "noface").iterdir()):
        assert detector.detect(decode_image(read_bytes(path))) == [], path.name


@pytest.mark.parametrize(("name", "count"), sorted(MULTI_COUNTS.items()))
def test_group_photo_counts(detector, faces_dir, name, count):
    image = decode_image(read_bytes(faces_dir / "multi" / name))
    faces = detector.detect(image)
    assert len(faces) == count
    areas = [face.rectangle.area for face in faces]
    assert areas == sorted(areas, reverse=True)
    height, width = image.shape[:2]
    for face in faces:
        box = face.rectangle
        assert all(isinstance(v, int) for v in (box.left, box.top, box.width, box.height))
        assert box.left >= 0 and box.top >= 0 and box.left + box.width <= width and box.top + box.height <= height
        assert face.points5.shape == (5, 2) and 0.8 <= face.score <= 1.0


def test_points5_are_in_original_image_coordinates(detector, person_photos):
    image = decode_image(read_bytes(person_photos[0]))
    (face,) = detector.detect(image)
    box = face.rectangle
    inside_x = (face.points5[:, 0] > box.left) & (face.points5[:, 0] < box.left + box.width)
    inside_y = (face.points5[:, 1] > box.top) & (face.points5[:, 1] < box.top + box.height)
    assert inside_x.all() and inside_y.all()
    right_eye, left_eye = face.points5[0], face.points5[1]
    assert right_eye[0] < left_eye[0]  # subject's right eye is on the image left


def test_max_faces_keeps_the_largest(detector, faces_dir):
    image = decode_image(read_bytes(faces_dir / "multi" / "facenet-pytorch_multiface.jpg"))
    everything = detector.detect(image)
    assert [f.rectangle for f in detector.detect(image, max_faces=2)] == [f.rectangle for f in everything[:2]]


def test_a_36px_face_in_a_1920x1080_image_is_found(detector, person_photos):
    image = decode_image(read_bytes(person_photos[0]))
    (face,) = detector.detect(image)
    factor = 36 / face.rectangle.width  # Azure: 36 px faces in images up to 1920x1080
    small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    canvas = np.full((1080, 1920, 3), 127, np.uint8)
    canvas[500 : 500 + small.shape[0], 900 : 900 + small.shape[1]] = small
    found = detector.detect(canvas)
    assert len(found) == 1
    assert abs(found[0].rectangle.left - (900 + face.rectangle.left * factor)) < 8


def test_a_close_up_filling_the_frame_is_found(detector, person_photos):
    image = decode_image(read_bytes(person_photos[0]))
    (face,) = detector.detect(image)
    box = face.rectangle
    close_up = cv2.resize(image[box.top : box.top + box.height, box.left : box.left + box.width], (900, 1100))
    (found,) = detector.detect(close_up)
    assert found.rectangle.width > 700 and found.rectangle.left + found.rectangle.width <= 900
    assert found.points5[:, 0].min() > 0 and found.points5[:, 1].max() < 1100


def test_face_on_the_border_is_clipped_to_the_image():
    assert clip_rectangle(-5.4, 10.2, 50.0, 500.0, 40, 100) == clip_rectangle(0, 10, 40, 90, 40, 100)
    assert clip_rectangle(50, 50, 10, 10, 40, 40) is None


def test_nms_keeps_the_best_of_overlapping_boxes():
    rows = np.zeros((3, 15), np.float32)
    rows[:, :4] = [[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 10, 10]]
    rows[:, 14] = [0.85, 0.95, 0.9]
    kept = nms(rows)
    assert kept[:, 14].tolist() == pytest.approx([0.95, 0.9])


@pytest.mark.parametrize("shape", [(417, 600, 3), (64, 64, 3), (33, 95, 3)])
def test_input_tensor_is_the_image_zero_padded_to_multiples_of_32(shape: tuple[int, int, int]) -> None:
    image = np.random.default_rng(4).integers(0, 256, shape, dtype=np.uint8)
    height, width = shape[:2]
    want = np.zeros((1, 3, -(-height // 32) * 32, -(-width // 32) * 32), np.float32)
    want[0, :, :height, :width] = image.transpose(2, 0, 1)
    np.testing.assert_array_equal(to_input_tensor(image, 1.0), want)

"""Derive alignment.DLIB_TEMPLATE: where YuNet's five points fall in dlib's 150x150 face chip.

For every dev photo (faces/persons): YuNet (the engine's detector) gives the face box and five
points; dlib's ``shape_predictor_5_face_landmarks`` on that box gives dlib's landmarks, and
``dlib.get_face_chip_details(shape, 150, 0.25)`` the chip dlib would cut. We rebuild dlib's
chip-to-image mapping from those details (as dlib's ``get_mapping_to_chip`` does: rectangle
corners rotated about the centre by ``angle`` land on the chip corners), map YuNet's points
into chip pixels, and average over photos. Prints the template, the per-point spread, and
how far each photo's own points sit from the mean (the residual our alignment accepts).

Needs dlib (dev/test only). Run: .venv/bin/python benchmarks/chip_template.py
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared")
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))

import dlib  # noqa: E402  (dev-only reference)
import face_recognition_models  # noqa: E402

from shared.engine.detector import YuNetDetector  # noqa: E402
from shared.engine.imaging import decode_image  # noqa: E402

POINT_NAMES = ("right eye", "left eye", "nose tip", "right mouth", "left mouth")


def dlib_chip_to_image(details) -> np.ndarray:
    """2x3 affine taking dlib chip pixels to image pixels, per dlib's get_mapping_to_chip."""
    rect, angle = details.rect, details.angle
    centre = np.array([(rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = np.array([[rect.left(), rect.top()], [rect.right(), rect.top()], [rect.right(), rect.bottom()]])
    image_side = (corners - centre) @ rotation.T + centre
    chip_side = np.array([[0, 0], [details.cols - 1, 0], [details.cols - 1, details.rows - 1]], dtype=float)
    return cv2.getAffineTransform(chip_side.astype(np.float32), image_side.astype(np.float32))


def dlib_shape(image_bgr: np.ndarray, face, predictor):
    r = face.rectangle
    rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
    return predictor(rgb, dlib.rectangle(r.left, r.top, r.left + r.width, r.top + r.height))


def yunet_points_in_dlib_chip(photo: Path, detector: YuNetDetector, predictor) -> np.ndarray:
    image = decode_image(photo.read_bytes())
    face = detector.detect(image)[0]
    details = dlib.get_face_chip_details(dlib_shape(image, face, predictor), 150, 0.25)
    to_image = dlib_chip_to_image(details)
    to_chip = cv2.invertAffineTransform(to_image)
    return face.points5.astype(np.float64) @ to_chip[:, :2].T + to_chip[:, 2]


def main() -> None:
    photos = sorted((SHARED_DIR / "data" / "faces" / "persons").glob("*/*.jpg"))
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())
    detector = YuNetDetector()
    points = np.stack([yunet_points_in_dlib_chip(p, detector, predictor) for p in photos])
    template = points.mean(axis=0)
    spread = points.std(axis=0)
    residual = np.linalg.norm(points - template, axis=2)
    print(f"photos: {len(photos)}")
    print("point          mean x   mean y   sd x   sd y")
    for name, (x, y), (sx, sy) in zip(POINT_NAMES, template, spread):
        print(f"{name:12s} {x:8.2f} {y:8.2f} {sx:6.2f} {sy:6.2f}")
    print(f"per-photo distance to template (px): mean {residual.mean():.2f}, max {residual.max():.2f}")
    print("DLIB_TEMPLATE = [" + ", ".join(f"[{x:.2f}, {y:.2f}]" for x, y in template) + "]")


if __name__ == "__main__":
    main()

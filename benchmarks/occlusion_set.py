"""A labelled occlusion set made at run time: lfw-dev photos with the forehead, the eyes or the
mouth covered (or nothing), written to a temporary folder and never kept.

Deterministic: the same ``seed`` and photo list give the same images. Per sample, a photo,
a region (cycling none / forehead / eye / mouth, so a quarter of each) and an occluder:

* ``skin``: a flat patch of the face's own cheek colour (jittered), with faint noise;
* ``colour``: a flat patch of a colour far from the face's skin;
* ``hand``: a hand silhouette (palm and four fingers, random turn) filled with skin cut from
  the cheek of another lfw-dev photo, shaded, with soft edges (not a photographed hand: the
  set has none; skin texture, tone differences and finger edges are what it carries);
* ``bar``: a dark censor bar;
* ``blur``: the region blurred in place (Gaussian, sigma a third of its height).

A flat skin patch or a blur on a forehead leaves what still looks like a bare forehead, so
the forehead gets the other three. Shapes are placed from the clean photo's face mesh: the
forehead from the brows up past the top of the mesh, the eyes from the brows to below the
lower lids across both eyes, the mouth from under the nose to the chin (where a mask sits).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from shared.engine.detector import YuNetDetector
from shared.engine.imaging import decode_image
from shared.engine.landmarks import FaceMeshLandmarker
from shared.engine.types import DetectedFace

REGIONS = ("none", "forehead", "eye", "mouth")
OCCLUDERS = {
    "forehead": ("colour", "hand", "bar"),
    "eye": ("skin", "colour", "hand", "bar", "blur"),
    "mouth": ("skin", "colour", "hand", "bar", "blur"),
}
# lfw photos are centred crops of the same framing: this box is cheek skin on nearly all.
LFW_CHEEK_BOX = (slice(128, 152), slice(92, 116))


@dataclass(frozen=True)
class Sample:
    path: Path  # the image in the temporary folder
    source: Path
    region: str  # "none", "forehead", "eye" or "mouth"
    occluder: str | None

    @property
    def labels(self) -> dict[str, bool]:
        return {region: self.region == region for region in REGIONS[1:]}


def centred_face(faces: list[DetectedFace], image: np.ndarray) -> DetectedFace | None:
    """The face nearest the image centre (lfw's labelled person)."""
    if not faces:
        return None
    centre = np.array(image.shape[1::-1]) / 2
    return min(faces, key=lambda face: float(np.linalg.norm(face.points5.mean(axis=0) - centre)))


def _face_frame(mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Origin between the outer eye corners, unit x along the eye line, unit y down the face."""
    start, end = mesh[33, :2], mesh[263, :2]
    x_axis = (end - start) / np.linalg.norm(end - start)
    return (start + end) / 2, x_axis, np.array([-x_axis[1], x_axis[0]])


def region_polygon(mesh: np.ndarray, region: str) -> np.ndarray:
    """(4, 2) image polygon of the occluder for ``region``."""
    origin, x_axis, y_axis = _face_frame(mesh)
    points = mesh[:, :2] - origin
    across, down = points @ x_axis, points @ y_axis
    width = np.ptp(across)
    if region == "forehead":
        brow_top = min(down[i] for i in (105, 334, 66, 296))
        top, bottom = down.min() - 0.35 * width, brow_top + 0.01 * width
        left, right = across.min(), across.max()
    elif region == "eye":
        top = min(down[i] for i in (105, 334)) + 0.04 * width
        bottom = max(down[i] for i in (145, 374)) + 0.08 * width
        left, right = across[33] - 0.12 * width, across[263] + 0.12 * width
    else:
        top, bottom = down[2] + 0.02 * width, down[152] + 0.05 * width
        left, right = across[61] - 0.22 * width, across[291] + 0.22 * width
    corners = np.array([[left, top], [right, top], [right, bottom], [left, bottom]])
    return origin + corners[:, :1] * x_axis + corners[:, 1:] * y_axis


def _shape_mask(shape: tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.float32)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1.0)
    return mask


def _hand_mask(shape: tuple[int, int], polygon: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A palm and four fingers covering ``polygon``, fingers toward a random side."""
    centre = polygon.mean(axis=0)
    half_w = np.linalg.norm(polygon[1] - polygon[0]) / 2
    half_h = np.linalg.norm(polygon[3] - polygon[0]) / 2
    tilt = float(np.degrees(np.arctan2(*(polygon[1] - polygon[0])[::-1])))
    mask = np.zeros(shape, np.float32)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1.0)  # the palm covers the region
    cv2.ellipse(mask, (int(centre[0]), int(centre[1])), (int(half_w * 1.05), int(half_h * 1.15)), tilt, 0, 360, 1.0, -1)
    side = rng.choice([-1.0, 1.0])
    x_axis = (polygon[1] - polygon[0]) / (2 * half_w)
    y_axis = (polygon[3] - polygon[0]) / (2 * half_h)
    finger_width = max(2, int(half_h * 0.45))
    for k in range(4):
        offset = (-0.75 + 0.5 * k) * half_h
        base = centre + side * x_axis * half_w * 0.8 + y_axis * offset
        tip = base + side * x_axis * half_w * rng.uniform(0.35, 0.6) + y_axis * rng.uniform(-0.1, 0.1) * half_h
        cv2.line(mask, tuple(np.round(base).astype(int)), tuple(np.round(tip).astype(int)), 1.0, finger_width)
        cv2.circle(mask, tuple(np.round(tip).astype(int)), finger_width // 2, 1.0, -1)
    return mask


def _skin_colour(image: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    pixels = [image[int(mesh[i, 1]), int(mesh[i, 0])] for i in (50, 280, 101, 330)
              if 0 <= int(mesh[i, 1]) < image.shape[0] and 0 <= int(mesh[i, 0]) < image.shape[1]]
    return np.median(np.array(pixels, np.float32), axis=0) if pixels else np.array([120, 140, 180], np.float32)


def occlude(image: np.ndarray, mesh: np.ndarray, region: str, occluder: str, rng: np.random.Generator,
            skin_source: np.ndarray) -> np.ndarray:
    """``image`` with ``region`` covered by ``occluder`` (``skin_source``: another lfw photo)."""
    polygon = region_polygon(mesh, region)
    shape = image.shape[:2]
    mask = _hand_mask(shape, polygon, rng) if occluder == "hand" else _shape_mask(shape, polygon)
    height = max(2.0, float(np.linalg.norm(polygon[3] - polygon[0])))
    alpha = cv2.GaussianBlur(mask, (0, 0), max(0.8, height * 0.03))[:, :, None]
    base = image.astype(np.float32)
    skin = _skin_colour(image, mesh)
    if occluder == "skin":
        fill = np.clip(skin + rng.normal(0, 6, 3), 0, 255) + rng.normal(0, 2, image.shape)
    elif occluder == "colour":
        colour = rng.uniform(0, 255, 3)
        while np.linalg.norm(colour - skin) < 90:
            colour = rng.uniform(0, 255, 3)
        fill = colour + rng.normal(0, 2, image.shape)
    elif occluder == "bar":
        fill = np.full(image.shape, rng.uniform(0, 40), np.float32)
    elif occluder == "blur":
        fill = cv2.GaussianBlur(base, (0, 0), height / 3)
    else:  # hand: another photo's cheek skin, stretched over the image, with a soft shading
        patch = cv2.resize(skin_source[LFW_CHEEK_BOX], image.shape[1::-1], interpolation=cv2.INTER_CUBIC)
        patch = patch.astype(np.float32) * rng.uniform(0.85, 1.15)
        shading = cv2.GaussianBlur(mask, (0, 0), max(1.0, height * 0.15))[:, :, None]
        fill = patch * (0.75 + 0.25 * shading)
    return np.clip(base * (1 - alpha) + fill * alpha, 0, 255).astype(np.uint8)


def make_set(photos: list[Path], count: int, seed: int, folder: Path) -> list[Sample]:
    """``count`` samples from ``photos`` (each used at most once), written as PNG to ``folder``."""
    rng = np.random.default_rng(seed)
    detector, landmarker = YuNetDetector(), FaceMeshLandmarker()
    order = rng.permutation(len(photos))
    samples: list[Sample] = []
    for index in order:
        if len(samples) == count:
            break
        source = photos[index]
        image = decode_image(source.read_bytes())
        face = centred_face(detector.detect(image), image)
        if face is None:
            continue
        region = REGIONS[len(samples) % len(REGIONS)]
        occluder = None
        if region != "none":
            occluder = str(rng.choice(OCCLUDERS[region]))
            skin_source = decode_image(photos[int(rng.integers(len(photos)))].read_bytes())
            image = occlude(image, landmarker.mesh(image, face.points5), region, occluder, rng, skin_source)
        path = folder / f"{len(samples):04d}_{region}_{occluder or 'clean'}.png"
        cv2.imwrite(str(path), image)
        samples.append(Sample(path, source, region, occluder))
    return samples

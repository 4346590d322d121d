"""Is the forehead, are the eyes, is the mouth covered? Read off the image where the face
mesh says each part is.

The mesh places every part even when it is hidden (it infers the face's shape from what it
sees), so each region can be compared with what a visible one looks like:

* eyes: a visible eye has a bright sclera beside a dark iris, the strongest contrast of the
  face; a hand, a bar, a blur or dark lenses flatten it or darken it;
* mouth: lips are redder than the cheeks (Lab a*) and the lip line is a sharp dark edge; a
  mask, a hand or a bar has the cheeks' colour or none, a blur loses the edge;
* forehead: visible, it is skin of the cheeks' colour with little texture; hair, a hat, a
  hand or a bar differs in colour or adds edges.

A mask covers the cheeks too; on a masked face (the mask detector says so) the forehead and
the eyes are compared with the skin between the brows instead (GLABELLA): with the cheeks as
reference the forehead read as covered on 68 of 151 masked faces and the eyes on 31, with the
glabella 41 and 12 (bare faces, cheeks: 23 and 3 of 248).

The face is first warped upright to FACE_CROP_SIZE pixels (eye line horizontal, fixed scale),
so every measure is independent of image size and roll. Each region's measures (relative to
the cheeks, the face's own reference) go into a logistic model per flag, fitted on the
synthetic occlusion set of benchmarks/occlusion_set.py (benchmarks/occlusion_fit.py prints the
coefficients below) and measured on photos it was not fitted on (docs/landmarks-and-attributes.md).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from shared.engine.roi import Roi

FACE_CROP_SIZE = 128
FACE_CROP_SCALE = 1.25  # crop side over the mesh's extent along the eye line

# Mesh indices (MediaPipe canonical face mesh).
LEFT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
RIGHT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
EYE_GROWTH = 1.5  # eye contours grown about their centre, to take in lids and lashes
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
FOREHEAD = (70, 63, 105, 66, 107, 9, 336, 296, 334, 293, 300, 284, 332, 297, 338, 10, 109, 67, 103, 54)
CHEEKS = (50, 280, 101, 330)  # centres of cheek discs, the face's reference skin
GLABELLA = (168,)  # between the brows: the reference when a mask covers the cheeks
CHEEK_RADIUS = 0.09  # of the crop side

REGIONS = ("forehead", "eye", "mouth")
FEATURES = {
    "eye": ("contrast", "darkness", "colour", "texture"),
    "mouth": ("redness", "colour", "texture", "contrast"),
    "forehead": ("colour", "texture", "spread", "darkness"),
}


@dataclass(frozen=True)
class Logistic:
    weights: tuple[float, ...]
    bias: float
    threshold: float  # probability from which the region counts as covered

    def probability(self, features: np.ndarray) -> float:
        return float(1.0 / (1.0 + np.exp(-(np.dot(self.weights, features) + self.bias))))


# Fitted by benchmarks/occlusion_fit.py (1,000 images of the fitting half of lfw-dev, seed 0);
# the thresholds are each model's break-even point there.
MODELS: dict[str, Logistic] = {
    "forehead": Logistic((3.947, -8.270, -11.828, -0.997), 2.721, 0.402),
    "eye": Logistic((-2.591, 9.096, 2.089, -5.341), -2.490, 0.603),
    "mouth": Logistic((-0.235, -0.946, -15.436, 0.475), 8.973, 0.821),
}


def face_roi(mesh: np.ndarray) -> Roi:
    """An upright square around the mesh (the eye line horizontal)."""
    start, end = mesh[33, :2], mesh[263, :2]
    angle = float(np.arctan2(end[1] - start[1], end[0] - start[0]))
    direction = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    points = mesh[:, :2]
    across, down = points @ direction, points @ normal
    centre = direction * (across.max() + across.min()) / 2 + normal * (down.max() + down.min()) / 2
    size = FACE_CROP_SCALE * max(np.ptp(across), np.ptp(down))
    return Roi((float(centre[0]), float(centre[1])), float(size), angle)


def _to_crop(roi: Roi, points: np.ndarray) -> np.ndarray:
    affine = roi.crop_to_image(FACE_CROP_SIZE)
    return (points - affine[:, 2]) @ np.linalg.inv(affine[:, :2]).T


def _polygon_mask(polygons: list[np.ndarray]) -> tuple[tuple[slice, slice], np.ndarray]:
    """The polygons' filled mask, as (window, mask inside the window): the window is their
    bounding box in the crop, so reading the pixels inside touches only that box."""
    corners = np.round(np.vstack(polygons)).astype(np.int32)
    x0, y0 = np.clip(corners.min(axis=0), 0, FACE_CROP_SIZE - 1)
    x1, y1 = np.clip(corners.max(axis=0) + 1, 1, FACE_CROP_SIZE)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32) - (x0, y0) for points in polygons], 1)
    return (slice(y0, y1), slice(x0, x1)), mask.astype(bool)


def _grown(points: np.ndarray, factor: float) -> np.ndarray:
    centre = points.mean(axis=0)
    return centre + (points - centre) * factor


def region_polygons(crop_points: np.ndarray, region: str) -> list[np.ndarray]:
    if region == "eye":
        return [_grown(crop_points[list(LEFT_EYE)], EYE_GROWTH), _grown(crop_points[list(RIGHT_EYE)], EYE_GROWTH)]
    return [crop_points[list(LIPS if region == "mouth" else FOREHEAD)]]


class FaceRegions:
    """One face, warped upright, with its reference skin; each region measured on first use
    (a request that needs only the mouth measures only the mouth)."""

    def __init__(self, image_bgr: np.ndarray, mesh: np.ndarray, reference: tuple[int, ...] = CHEEKS) -> None:
        roi = face_roi(mesh)
        self.crop_points = _to_crop(roi, mesh[:, :2])
        self.lab = cv2.cvtColor(roi.crop(image_bgr, FACE_CROP_SIZE), cv2.COLOR_BGR2LAB).astype(np.float32)
        lightness = self.lab[:, :, 0]
        self.texture = cv2.magnitude(cv2.Sobel(lightness, cv2.CV_32F, 1, 0), cv2.Sobel(lightness, cv2.CV_32F, 0, 1))
        discs = np.zeros((FACE_CROP_SIZE, FACE_CROP_SIZE), np.uint8)
        for index in reference:
            x, y = np.round(self.crop_points[index]).astype(int)
            cv2.circle(discs, (int(x), int(y)), round(CHEEK_RADIUS * FACE_CROP_SIZE), 1, -1)
        self.skin_mask = discs.astype(bool) if discs.any() else np.ones_like(discs, dtype=bool)
        self.skin = np.median(self.lab[self.skin_mask], axis=0)
        self.skin_texture = float(np.mean(self.texture[self.skin_mask])) + 1.0
        self._features: dict[str, np.ndarray] = {}

    def features(self, region: str) -> np.ndarray:
        """The measures named in FEATURES[region], relative to the reference skin."""
        if region not in self._features:
            self._features[region] = self._measure(region)
        return self._features[region]

    def covered(self, region: str) -> bool:
        return MODELS[region].probability(self.features(region)) >= MODELS[region].threshold

    def _measure(self, region: str) -> np.ndarray:
        window, inside = _polygon_mask(region_polygons(self.crop_points, region))
        if inside.any():
            pixels, texture = self.lab[window][inside], self.texture[window][inside]
        else:  # the region fell outside the crop: it reads as the reference skin
            pixels, texture = self.lab[self.skin_mask], self.texture[self.skin_mask]
        skin, names = self.skin, FEATURES[region]
        median = np.median(pixels, axis=0)
        measures = {
            "darkness": median[0] / (skin[0] + 1.0),
            "colour": float(np.linalg.norm(median - skin)) / 50.0,
            "texture": float(np.mean(texture)) / self.skin_texture,
            "redness": (median[1] - skin[1]) / 10.0,
        }
        if "contrast" in names:
            low, high = np.percentile(pixels[:, 0], (5, 95))
            measures["contrast"] = (high - low) / (skin[0] + 20.0)
        if "spread" in names:
            measures["spread"] = float(np.std(pixels[:, 0])) / (skin[0] + 20.0)
        return np.array([measures[name] for name in names], dtype=np.float64)


def region_features(image_bgr: np.ndarray, mesh: np.ndarray, reference: tuple[int, ...] = CHEEKS) -> dict[str, np.ndarray]:
    """Every region's measures (FaceRegions.features), by region name."""
    regions = FaceRegions(image_bgr, mesh, reference)
    return {region: regions.features(region) for region in REGIONS}

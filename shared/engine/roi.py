"""A rotated square region of an image, resampled to a fixed-size crop (face mesh, iris)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Roi:
    """A rotated square in continuous image coordinates (pixel centres at +0.5)."""

    center: tuple[float, float]
    size: float
    angle: float  # radians; the crop's x axis points along this direction in the image

    def crop_to_image(self, crop_size: int) -> np.ndarray:
        """2x3 affine taking continuous crop coordinates to continuous image coordinates."""
        scale = self.size / crop_size
        cos, sin = np.cos(self.angle) * scale, np.sin(self.angle) * scale
        linear = np.array([[cos, -sin], [sin, cos]])
        offset = np.asarray(self.center) - linear @ np.array([crop_size / 2, crop_size / 2])
        return np.hstack([linear, offset[:, None]])

    def crop(self, image: np.ndarray, crop_size: int) -> np.ndarray:
        """The ROI resampled to crop_size x crop_size; outside the image is edge-replicated."""
        affine = self.crop_to_image(crop_size)
        # warpAffine works on pixel-centre coordinates: shift both sides by half a pixel.
        half = np.array([0.5, 0.5])
        centred = affine.copy()
        centred[:, 2] = affine[:, :2] @ half + affine[:, 2] - half
        return cv2.warpAffine(
            image, centred, (crop_size, crop_size),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE,
        )

    def points_to_image(self, points: np.ndarray, crop_size: int) -> np.ndarray:
        """Map (n, 2+) crop points to the image; a z column is scaled like x."""
        affine = self.crop_to_image(crop_size)
        out = np.array(points, dtype=np.float64, copy=True)
        out[:, :2] = points[:, :2] @ affine[:, :2].T + affine[:, 2]
        if out.shape[1] > 2:
            out[:, 2] *= self.size / crop_size
        return out

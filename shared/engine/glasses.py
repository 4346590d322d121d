"""Glasses on the nose, from SlinkoIgor's glasses classifier on an eye-band crop.

The classifier (MobileNetV3-Small) was trained on crops cut from dlib's 68 points: the box
around both eyebrows and the lower edge of the nose, widened by a third of its width on each
side, resized to 128x64 RGB with values 0..255. We cut the same box from the face mesh's
equivalents of those points, in the frame of the eye line so a tilted head gives the upright
crop the classifier saw in training. One logit; below 0 means glasses.
"""
from __future__ import annotations

import cv2
import numpy as np

from shared.engine.onnx_model import OnnxModel

CROP_WIDTH, CROP_HEIGHT = 128, 64
SIDE_MARGIN = 1 / 3  # of the box width, each side (upstream: width // 3)
# Mesh equivalents of dlib's eyebrow points (17-26) and its "nose_tip" row (31-35).
BROW_POINTS = (70, 63, 105, 66, 107, 46, 53, 52, 65, 55, 300, 293, 334, 296, 336, 276, 283, 282, 295, 285)
NOSE_BASE_POINTS = (98, 97, 2, 326, 327)
EYE_LINE = (33, 263)  # outer eye corners, image-left then image-right


def eye_band_affine(mesh: np.ndarray) -> np.ndarray:
    """2x3 affine taking eye-band crop pixels to image pixels."""
    start, end = mesh[EYE_LINE[0], :2], mesh[EYE_LINE[1], :2]
    direction = (end - start) / max(float(np.linalg.norm(end - start)), 1e-6)
    rotation = np.array([[direction[0], -direction[1]], [direction[1], direction[0]]])  # face frame -> image
    points = mesh[list(BROW_POINTS + NOSE_BASE_POINTS), :2] @ rotation  # image -> face frame
    left, top = points.min(axis=0)
    right, bottom = points.max(axis=0)
    margin = (right - left) * SIDE_MARGIN
    left, right = left - margin, right + margin
    scale = np.diag([(right - left) / CROP_WIDTH, (bottom - top) / CROP_HEIGHT])
    linear = rotation @ scale
    return np.hstack([linear, (rotation @ np.array([left, top]))[:, None]])


def eye_band(image_bgr: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """The 64x128 BGR eye-band crop the classifier reads."""
    return cv2.warpAffine(image_bgr, eye_band_affine(mesh), (CROP_WIDTH, CROP_HEIGHT),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)


class GlassesClassifier(OnnxModel):
    model_name = "glasses"

    def logit(self, band_bgr: np.ndarray) -> float:
        """The classifier's logit for an ``eye_band`` crop: below 0 means glasses."""
        tensor = band_bgr[:, :, ::-1].astype(np.float32).transpose(2, 0, 1)[None]
        return float(self.run_single(tensor)[0].ravel()[0])

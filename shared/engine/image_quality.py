"""Blur, exposure and noise of the face region, as Azure's {level, value} attributes.

Each value is a documented image measurement mapped linearly to 0..1; the levels are
Azure's published bands over that value. The mappings (and the photos they were checked
on) are in docs/landmarks-and-attributes.md.

* blur: the no-reference blur measure of Crete et al. (2007) on the face resized to
  FACE_SIDE px: how much of the face's pixel-to-pixel variation survives a strong extra
  blur (a sharp face loses a lot, a blurred one little). Resizing first makes the value
  independent of face size; a face smaller than FACE_SIDE is upsampled and so reads as
  blurrier, which it is for recognition.
* exposure: the mid-range of the face's luminance distribution (mean of its 10th and 90th
  percentiles). Using both tails rather than the median keeps well-lit dark skin "good".
* noise: a robust sigma of the face at full resolution: median absolute value of a
  second-difference (Laplacian-like) residual that cancels smooth shading (Immerkaer 1996
  kernel, MAD instead of the mean so edges and texture barely count).
"""
from __future__ import annotations

import cv2
import numpy as np

from shared.engine import types

FACE_SIDE = 128
_BLUR_KERNEL = 9  # the re-blur of Crete et al.
# Crete's measure on the 62 test portraits: median 0.41, 90th percentile 0.48; after a
# Gaussian blur of sigma 1 / 2 / 3 px (at FACE_SIDE) medians 0.61 / 0.77 / 0.86 (set at
# 0.43 / 0.59 / 0.74 / 0.81 on the detector's earlier full-resolution boxes). Mapping
# [0.38, 0.82] -> [0, 1] puts sharp portraits in "low", sigma 1 in "medium", sigma 2+ "high".
BLUR_SHARP, BLUR_BLURRED = 0.38, 0.82
# Grey-level noise sigma that maps to value 1.0: the test portraits measure 0.3-4.2 (low);
# sigma 6.7 (medium) and 13.4 (high) are what 10 and 20 per-channel BGR noise become in grey.
NOISE_SIGMA_AT_ONE = 15.0
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
_NOISE_KERNEL_NORM = 6.0  # L2 norm of the kernel: residual sigma = noise sigma * 6
_MAD_TO_SIGMA = 1.4826

BLUR_BANDS = ((0.25, "low"), (0.75, "medium"), (float("inf"), "high"))
EXPOSURE_BANDS = ((0.25, "underExposure"), (0.75, "goodExposure"), (float("inf"), "overExposure"))
NOISE_BANDS = ((0.3, "low"), (0.7, "medium"), (float("inf"), "high"))


def face_gray(image_bgr: np.ndarray, rectangle: types.Rectangle) -> np.ndarray:
    """The face rectangle (clipped to the image) as float32 grey levels 0..255."""
    height, width = image_bgr.shape[:2]
    left, top = max(rectangle.left, 0), max(rectangle.top, 0)
    right = min(rectangle.left + rectangle.width, width)
    bottom = min(rectangle.top + rectangle.height, height)
    crop = image_bgr[top:bottom, left:right]
    if crop.size == 0:
        raise ValueError("face rectangle is outside the image")
    return cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float32)


def level(value: float, bands: tuple[tuple[float, str], ...]) -> str:
    return next(name for upper, name in bands if value < upper)


def _rescale(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def blur_value(gray: np.ndarray) -> float:
    interpolation = cv2.INTER_AREA if min(gray.shape) >= FACE_SIDE else cv2.INTER_LINEAR
    face = cv2.resize(gray, (FACE_SIDE, FACE_SIDE), interpolation=interpolation)
    measures = []
    # axis 0: vertical differences after a vertical re-blur (cv2 ksize is (width, height)).
    for axis, ksize in ((0, (1, _BLUR_KERNEL)), (1, (_BLUR_KERNEL, 1))):
        reblurred = cv2.blur(face, ksize)
        d_face = np.abs(np.diff(face, axis=axis))
        d_reblurred = np.abs(np.diff(reblurred, axis=axis))
        total = float(d_face.sum())
        lost = float(np.maximum(d_face - d_reblurred, 0.0).sum())
        measures.append((total - lost) / total if total > 0 else 1.0)
    return _rescale(max(measures), BLUR_SHARP, BLUR_BLURRED)


def exposure_value(gray: np.ndarray) -> float:
    low, high = np.percentile(gray, (10, 90))
    return float(np.clip((low + high) / 2 / 255.0, 0.0, 1.0))


def noise_value(gray: np.ndarray) -> float:
    residual = cv2.filter2D(gray, cv2.CV_32F, _NOISE_KERNEL)[1:-1, 1:-1]
    sigma = _MAD_TO_SIGMA * float(np.median(np.abs(residual))) / _NOISE_KERNEL_NORM
    return float(np.clip(sigma / NOISE_SIGMA_AT_ONE, 0.0, 1.0))


def blur(gray: np.ndarray) -> dict:
    value = round(blur_value(gray), 2)
    return {"blurLevel": level(value, BLUR_BANDS), "value": value}


def exposure(gray: np.ndarray) -> dict:
    value = round(exposure_value(gray), 2)
    return {"exposureLevel": level(value, EXPOSURE_BANDS), "value": value}


def noise(gray: np.ndarray) -> dict:
    value = round(noise_value(gray), 2)
    return {"noiseLevel": level(value, NOISE_BANDS), "value": value}

"""Face chips: warp a face so its five points land on a fixed template.

Points are YuNet's five, in its order: right eye, left eye, nose tip, right mouth corner,
left mouth corner ("right" = the subject's right = image-left). Both templates below use
the same order.

* ``DLIB_TEMPLATE`` (150x150): where YuNet's points fall, on average, in the chip that
  dlib's own pipeline cuts (``shape_predictor_5_face_landmarks`` +
  ``get_face_chip_details(shape, 150, padding=0.25)``), measured on the 62 dev photos by
  ``benchmarks/chip_template.py``; see docs/recognition.md for the derivation and numbers.
  dlib's chip is a similarity transform of the image, so a least-squares similarity from
  YuNet's points to this template reproduces it without running dlib's landmark model.
* ``ARCFACE_TEMPLATE`` (112x112): the public five-point reference of InsightFace's
  ``arcface_dst`` (deepinsight/insightface, ``python-package/insightface/utils/face_align.py``;
  OpenCV's SFace ``alignCrop`` uses the same numbers), shared by ArcFace-family models.

Like dlib's ``extract_image_chips``, we halve the image (Gaussian pyramid) while the chip
would otherwise sample it more than 2x sparser than its pixels; plain bilinear sampling at
that rate aliases and shifts embeddings.
"""
from __future__ import annotations

import cv2
import numpy as np

DLIB_CHIP_SIZE = 150
DLIB_TEMPLATE = np.array(
    [
        [46.21, 44.92],
        [101.48, 44.64],
        [73.94, 77.45],
        [49.79, 101.50],
        [98.90, 101.27],
    ],
    dtype=np.float64,
)

ARCFACE_CHIP_SIZE = 112
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)

MAX_SAMPLING_STEP = 2.0  # image pixels per chip pixel before we pre-shrink the image


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src onto dst.

    Closed-form Umeyama (1991); returns a 2x3 matrix M with dst ~= M @ [x, y, 1].
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1.0  # a reflection is never a valid face alignment
    rotation = u @ np.diag(sign) @ vt
    scale = float((singular * sign).sum() / src_c.var(axis=0).sum())
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def warp_chip(image: np.ndarray, points5: np.ndarray, template: np.ndarray, size: int) -> np.ndarray:
    """Cut a ``size`` x ``size`` chip of ``image`` whose five points match ``template``."""
    to_chip = similarity_transform(points5, template)
    step = 1.0 / np.hypot(to_chip[0, 0], to_chip[0, 1])  # image pixels per chip pixel
    levels = 0
    while step / 2 ** levels > MAX_SAMPLING_STEP and min(image.shape[:2]) >= 4:
        image = cv2.pyrDown(image)
        levels += 1
    if levels:
        # Pixel i of a pyrDown level sits at 2*i of the level below: rescale the input side.
        to_chip = to_chip.copy()
        to_chip[:, :2] *= 2 ** levels
    return cv2.warpAffine(image, to_chip, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def dlib_chip(image: np.ndarray, points5: np.ndarray) -> np.ndarray:
    """The 150x150 chip dlib's face recognition ResNet expects (same channel order as input)."""
    return warp_chip(image, points5, DLIB_TEMPLATE, DLIB_CHIP_SIZE)


def arcface_template(size: int) -> np.ndarray:
    """``ARCFACE_TEMPLATE`` for a ``size`` chip, as InsightFace's ``estimate_norm`` does it:
    multiples of 112 scale it; other sizes treat it as a 128 template (112 + 8 px margins)."""
    if size % ARCFACE_CHIP_SIZE == 0:
        return ARCFACE_TEMPLATE * (size / ARCFACE_CHIP_SIZE)
    ratio = size / 128.0
    return ARCFACE_TEMPLATE * ratio + [8.0 * ratio, 0.0]


def arcface_chip(image: np.ndarray, points5: np.ndarray, size: int = ARCFACE_CHIP_SIZE) -> np.ndarray:
    """The standard ArcFace chip (112x112 unless the model wants another size)."""
    return warp_chip(image, points5, arcface_template(size), size)

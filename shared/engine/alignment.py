"""Face chips: warp a face so its five points land on a fixed template.

Unless said otherwise, points are YuNet's five, in its order: right eye, left eye, nose tip,
right mouth corner, left mouth corner ("right" = the subject's right = image-left).

* dlib's chip (150x150) is what dlib's own pipeline cuts (``shape_predictor_5_face_landmarks``
  + ``get_face_chip_details(shape, 150, padding=0.25)``): a similarity transform of the image
  fixed by dlib's five landmarks, the four eye corners and the base of the nose. YuNet's
  mouth corners move with a smile and dlib's points include no mouth, so we take dlib's five
  from one MediaPipe face-mesh pass (``DLIB_MESH_POINTS``) and fit them to
  ``DLIB_MESH_TEMPLATE``, where they fall on average in dlib's chip. The mesh crop is placed
  from YuNet's points alone (``mesh_crop``): a fixed square in the frame of ``DLIB_TEMPLATE``
  (where YuNet's points fall in dlib's chip), framed like MediaPipe's tracker frames its
  second pass. Both templates and the framing are measured on the 62 dev photos by
  ``benchmarks/chip_template.py``; see docs/recognition.md for the derivation and numbers.
* ``ARCFACE_TEMPLATE`` (112x112): the public five-point reference of InsightFace's
  ``arcface_dst`` (deepinsight/insightface, ``python-package/insightface/utils/face_align.py``;
  OpenCV's SFace ``alignCrop`` uses the same numbers), in YuNet's order, shared by
  ArcFace-family models.

Like dlib's ``extract_image_chips``, we halve the image (Gaussian pyramid) while the chip
would otherwise sample it more than 2x sparser than its pixels; plain bilinear sampling at
that rate aliases and shifts embeddings. Only the part of the image the chips of a face see is
halved, once for all of them (``warp_chips``: a fused embedder's two chips share it).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from shared.engine.roi import Roi

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

# dlib's five landmarks as face-mesh indices: image-left eye outer and inner corner,
# image-right eye inner and outer corner, subnasale (the base of the nose between the nostrils).
DLIB_MESH_POINTS = (33, 133, 362, 263, 2)
DLIB_MESH_TEMPLATE = np.array(
    [
        [33.39, 45.39],
        [57.81, 46.55],
        [87.96, 46.29],
        [112.62, 44.75],
        [73.04, 84.79],
    ],
    dtype=np.float64,
)
# The face-mesh crop in DLIB_TEMPLATE's frame: centre and side in chip pixels, axis-aligned.
MESH_CROP_CENTER = (73.56, 70.59)
MESH_CROP_SIZE = 216.61

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
# Pixels (of the coarsest level) kept around what a chip sees when only that part is halved:
# bilinear sampling reads 1 beyond it, the 5-tap pyramid filter 2 per level at that level.
CROP_MARGIN = 4


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src onto dst.

    Returns a 2x3 matrix M with dst ~= M @ [x, y, 1]. In 2-D a scaled rotation is
    [[a, -b], [b, a]], linear in (a, b), so the least-squares fit is closed-form: the same
    matrix as Umeyama's (1991) SVD solution with its reflection guard, to float64 rounding,
    in a few microseconds instead of a few dozen (it runs three times per face).
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    (sx, sy), (dx, dy) = (src - src_mean).T, (dst - dst_mean).T
    norm = float(sx @ sx + sy @ sy)
    a = float(sx @ dx + sy @ dy) / norm
    b = float(sx @ dy - sy @ dx) / norm
    linear = np.array([[a, -b], [b, a]])
    return np.hstack([linear, (dst_mean - linear @ src_mean)[:, None]])


class Cut(NamedTuple):
    """Where a chip comes from: the 2x3 image -> chip transform, and the chip's side."""

    to_chip: np.ndarray
    size: int


def warp_chip(image: np.ndarray, points5: np.ndarray, template: np.ndarray, size: int) -> np.ndarray:
    """Cut a ``size`` x ``size`` chip of ``image`` whose five points match ``template``."""
    return warp_chips(image, [Cut(similarity_transform(points5, template), size)])[0]


def warp_chips(image: np.ndarray, cuts: Sequence[Cut]) -> list[np.ndarray]:
    """The chips of one face (a fused embedder's parts), cut from one halved crop of the part of
    the image they see: each chip samples the same pixels as if it were cut alone."""
    levels = [_levels(image, cut.to_chip) for cut in cuts]
    pyramid = _pyramid(image, [cut for cut, level in zip(cuts, levels) if level], max(levels)) if any(levels) else None
    chips = []
    for cut, level in zip(cuts, levels):
        source, to_chip = pyramid.view(cut.to_chip, level) if level else (image, cut.to_chip)
        chips.append(cv2.warpAffine(source, to_chip, (cut.size, cut.size), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_CONSTANT))
    return chips


def _levels(image: np.ndarray, to_chip: np.ndarray) -> int:
    """How often to halve the image so the chip samples it at most MAX_SAMPLING_STEP apart."""
    step = 1.0 / np.hypot(to_chip[0, 0], to_chip[0, 1])  # image pixels per chip pixel
    levels, side = 0, min(image.shape[:2])
    while step / 2 ** levels > MAX_SAMPLING_STEP and side >= 4:
        levels, side = levels + 1, (side + 1) // 2
    return levels


@dataclass(frozen=True)
class _Pyramid:
    """Halvings 0..n of one crop of an image whose top-left pixel is (left, top)."""

    levels: list[np.ndarray]
    left: int
    top: int

    def view(self, to_chip: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
        """The halved crop at ``level`` and the chip transform for it."""
        # Pixel i of the crop halved ``level`` times sits at (left, top) + 2**level * i of the image.
        shifted = to_chip.copy()
        shifted[:, 2] += to_chip[:, :2] @ np.array([self.left, self.top], dtype=np.float64)
        shifted[:, :2] *= 2 ** level
        return self.levels[level], shifted


def _pyramid(image: np.ndarray, cuts: Sequence[Cut], levels: int) -> _Pyramid:
    """The image halved up to ``levels`` times, computed on the part the chips can see only: the
    pixels a chip samples come out exactly as from halving the whole image (the crop starts on
    the coarsest grid, and its margin covers the Gaussian's reach at every level)."""
    unit = 2 ** levels
    seen = np.vstack([_seen_corners(cut) for cut in cuts])
    margin = CROP_MARGIN * unit
    height, width = image.shape[:2]
    left = max(0, int(np.floor((seen[:, 0].min() - margin) / unit)) * unit)
    top = max(0, int(np.floor((seen[:, 1].min() - margin) / unit)) * unit)
    right = min(width, int(np.ceil(seen[:, 0].max() + margin)))
    bottom = min(height, int(np.ceil(seen[:, 1].max() + margin)))
    if right <= left or bottom <= top:  # the chips see no pixel of the image: halve it all
        left, top, right, bottom = 0, 0, width, height
    halvings = [image[top:bottom, left:right]]
    for _ in range(levels):
        halvings.append(cv2.pyrDown(halvings[-1]))
    return _Pyramid(halvings, left, top)


def _seen_corners(cut: Cut) -> np.ndarray:
    """The chip's corners in image pixels."""
    corners = np.array([[0, 0], [cut.size, 0], [0, cut.size], [cut.size, cut.size]], dtype=np.float64)
    to_image = cv2.invertAffineTransform(cut.to_chip)
    return corners @ to_image[:, :2].T + to_image[:, 2]


def dlib_chip(image: np.ndarray, points5: np.ndarray) -> np.ndarray:
    """dlib's 150x150 chip from YuNet's points alone (same channel order as input): the
    baseline the benchmarks compare against. The embedder cuts ``dlib_chip_from_mesh``."""
    return warp_chip(image, points5, DLIB_TEMPLATE, DLIB_CHIP_SIZE)


def mesh_crop(points5: np.ndarray) -> Roi:
    """Where to run the face mesh for a face known only by YuNet's five points."""
    to_image = cv2.invertAffineTransform(similarity_transform(points5, DLIB_TEMPLATE))
    center = to_image[:, :2] @ np.asarray(MESH_CROP_CENTER) + to_image[:, 2]
    scale = float(np.hypot(to_image[0, 0], to_image[1, 0]))
    angle = float(np.arctan2(to_image[1, 0], to_image[0, 0]))
    return Roi((float(center[0]), float(center[1])), MESH_CROP_SIZE * scale, angle)


def dlib_cut_from_mesh(mesh: np.ndarray) -> Cut:
    """Where dlib's 150x150 chip lies for a (468, 2+) face mesh in image pixels."""
    return Cut(similarity_transform(mesh[list(DLIB_MESH_POINTS), :2], DLIB_MESH_TEMPLATE), DLIB_CHIP_SIZE)


def dlib_chip_from_mesh(image: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """dlib's 150x150 chip from a (468, 2+) face mesh in image pixels."""
    return warp_chips(image, [dlib_cut_from_mesh(mesh)])[0]


def arcface_template(size: int) -> np.ndarray:
    """``ARCFACE_TEMPLATE`` for a ``size`` chip, as InsightFace's ``estimate_norm`` does it:
    multiples of 112 scale it; other sizes treat it as a 128 template (112 + 8 px margins)."""
    if size % ARCFACE_CHIP_SIZE == 0:
        return ARCFACE_TEMPLATE * (size / ARCFACE_CHIP_SIZE)
    ratio = size / 128.0
    return ARCFACE_TEMPLATE * ratio + [8.0 * ratio, 0.0]


def arcface_cut(points5: np.ndarray, size: int = ARCFACE_CHIP_SIZE) -> Cut:
    """Where the standard ArcFace chip (112x112 unless the model wants another size) lies."""
    return Cut(similarity_transform(points5, arcface_template(size)), size)


def arcface_chip(image: np.ndarray, points5: np.ndarray, size: int = ARCFACE_CHIP_SIZE) -> np.ndarray:
    """The standard ArcFace chip (112x112 unless the model wants another size)."""
    return warp_chips(image, [arcface_cut(points5, size)])[0]

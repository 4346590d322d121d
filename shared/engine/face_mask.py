"""Face-mask scores from AIZOOTech's mask detector (an SSD with classes Mask and NoMask).

The detector was trained on whole photos at 260x260; here it sees one face at a time: a
square crop centred on the face, FACE_CROP_SCALE times the face rectangle's longer side (the
face then spans three fifths of the input, where the SSD's largest anchor sizes sit), resized
to INPUT_SIZE x INPUT_SIZE RGB in [0, 1]. The network is fully convolutional and its anchors
are fractions of the input, so a smaller input only changes the grid sizes (at 160 px: 2,140
anchor boxes, 540 once the first map is dropped; docs/landmarks-and-attributes.md has why 160). The boxes that overlap the face's
own box (IoU at least MATCH_MIN_IOU) are the detector's view of that face; the most confident
of them gives the two class scores (independent sigmoids, each 0..1). Faces it does not see as
a face at all (both scores low) are reported as such, not guessed.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from shared.engine.onnx_model import OnnxModel
from shared.engine.roi import Roi
from shared.engine.types import Rectangle

INPUT_SIZE = 160
FACE_CROP_SCALE = 1.7
MATCH_MIN_IOU = 0.3
# Upstream's anchor layout (AIZOOTech/FaceMaskDetection, tflite_infer.py): per feature map,
# two sizes at aspect ratio 1 and two more aspect ratios at the first size; SSD variances.
ANCHOR_SIZES = ((0.04, 0.056), (0.08, 0.11), (0.16, 0.22), (0.32, 0.45), (0.64, 0.72))
ANCHOR_RATIOS = (1.0, 0.62, 0.42)
VARIANCES = (0.1, 0.1, 0.2, 0.2)
# The first feature map's anchors (0.04-0.06 of the crop) never match the face, which spans 0.59
# of it: only a box regressed to five times its anchor's size could reach MATCH_MIN_IOU, and on
# the 399 labelled faces none of its 1,600 boxes matched (the best box came from maps 3, 2 and 4).
# The build drops that map's heads (attribute_onnx), 0.2 ms of the int8 model's 2.
FIRST_MAP = 1


def feature_map_sizes(input_size: int) -> tuple[int, ...]:
    """The five head grids: strides 8, 16, 32, 64 ('same' pooling rounds up), and a last one
    a valid 3x3 convolution makes from the fourth (260 px: 33, 17, 9, 5, 3 as upstream)."""
    sizes = [-(-input_size // 8)]
    for _ in range(3):
        sizes.append(-(-sizes[-1] // 2))
    return (*sizes, sizes[-1] - 2)


def anchors(input_size: int = INPUT_SIZE, first_map: int = FIRST_MAP) -> np.ndarray:
    """(n, 4) anchor boxes (xmin, ymin, xmax, ymax) in [0, 1], in the model's output order:
    feature map (from ``first_map``), then row, then column, then anchor."""
    boxes = []
    for size, scales in list(zip(feature_map_sizes(input_size), ANCHOR_SIZES))[first_map:]:
        shapes = [(scale * np.sqrt(ANCHOR_RATIOS[0]), scale / np.sqrt(ANCHOR_RATIOS[0])) for scale in scales]
        shapes += [(scales[0] * np.sqrt(ratio), scales[0] / np.sqrt(ratio)) for ratio in ANCHOR_RATIOS[1:]]
        centres = (np.arange(size) + 0.5) / size
        cy, cx = np.meshgrid(centres, centres, indexing="ij")
        for y, x in zip(cy.ravel(), cx.ravel()):
            boxes += [(x - w / 2, y - h / 2, x + w / 2, y + h / 2) for w, h in shapes]
    return np.array(boxes)


ANCHORS = anchors()
# The anchors as centre and size columns, float32 like the model's outputs: decoding the
# boxes column by column costs a fifth of doing it on (n, 4) arrays.
_CENTRE_X, _CENTRE_Y, _WIDTH, _HEIGHT = (np.ascontiguousarray(column, dtype=np.float32) for column in (
    (ANCHORS[:, 0] + ANCHORS[:, 2]) / 2, (ANCHORS[:, 1] + ANCHORS[:, 3]) / 2,
    ANCHORS[:, 2] - ANCHORS[:, 0], ANCHORS[:, 3] - ANCHORS[:, 1]))


def decode_boxes(offsets: np.ndarray) -> np.ndarray:
    """SSD box regression (n, 4) -> (n, 4) boxes (xmin, ymin, xmax, ymax) in [0, 1]."""
    centre_x = _CENTRE_X + offsets[:, 0] * (VARIANCES[0] * _WIDTH)
    centre_y = _CENTRE_Y + offsets[:, 1] * (VARIANCES[1] * _HEIGHT)
    half_w = _WIDTH * np.exp(offsets[:, 2] * VARIANCES[2]) / 2
    half_h = _HEIGHT * np.exp(offsets[:, 3] * VARIANCES[3]) / 2
    return np.stack([centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h], axis=1)


def box_iou(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """IoU of each of (n, 4) ``boxes`` with one ``box``, all (xmin, ymin, xmax, ymax)."""
    left, top, right, bottom = (boxes[:, i] for i in range(4))
    inter_w = np.clip(np.minimum(right, box[2]) - np.maximum(left, box[0]), 0, None)
    inter_h = np.clip(np.minimum(bottom, box[3]) - np.maximum(top, box[1]), 0, None)
    inter = inter_w * inter_h
    return inter / ((right - left) * (bottom - top) + (box[2] - box[0]) * (box[3] - box[1]) - inter)


@dataclass(frozen=True)
class MaskScores:
    mask: float  # sigmoid score of class Mask, 0..1
    no_mask: float  # sigmoid score of class NoMask, 0..1


def input_tensor(image_bgr: np.ndarray, rectangle: Rectangle) -> np.ndarray:
    """The detector's 1x3xINPUT_SIZExINPUT_SIZE input: the square around the face, RGB in [0, 1]."""
    side = FACE_CROP_SCALE * max(rectangle.width, rectangle.height)
    centre = (rectangle.left + rectangle.width / 2, rectangle.top + rectangle.height / 2)
    crop = Roi(centre, side, 0.0).crop(image_bgr, INPUT_SIZE)
    return (cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0).transpose(2, 0, 1)[None]


def face_scores(offsets: np.ndarray, classes: np.ndarray, rectangle: Rectangle) -> MaskScores:
    """The scores of the most confident anchor box overlapping the face (one image's outputs)."""
    side = FACE_CROP_SCALE * max(rectangle.width, rectangle.height)
    # The face rectangle in crop units: centred, 1/FACE_CROP_SCALE of the crop.
    half_w, half_h = rectangle.width / side / 2, rectangle.height / side / 2
    face_box = np.array([0.5 - half_w, 0.5 - half_h, 0.5 + half_w, 0.5 + half_h])
    matched = box_iou(decode_boxes(offsets), face_box) >= MATCH_MIN_IOU
    if not matched.any():
        return MaskScores(0.0, 0.0)
    best = np.flatnonzero(matched)[np.argmax(classes[matched].max(axis=1))]
    return MaskScores(float(classes[best, 0]), float(classes[best, 1]))


class FaceMaskDetector(OnnxModel):
    model_name = "face_mask"

    def scores(self, image_bgr: np.ndarray, rectangle: Rectangle) -> MaskScores:
        offsets, classes = (output[0] for output in self.run_single(input_tensor(image_bgr, rectangle)))
        return face_scores(offsets, classes, rectangle)

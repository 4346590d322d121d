"""Passive liveness with Silent-Face-Anti-Spoofing's two MiniFASNet models.

Each model sees the face box enlarged by its own context scale (2.7 and 4.0) and resized to
80x80, BGR 0..255. Their softmax outputs are summed; class 1 is "real". This is upstream's
fusion, and it reproduces upstream's published sample results (see MANIFEST).
"""
from __future__ import annotations

import cv2
import numpy as np

from shared.engine.onnx_model import OnnxModel
from shared.engine.types import LivenessScore, Rectangle

INPUT_SIZE = 80
REAL_CLASS = 1


def context_box(rectangle: Rectangle, scale: float, width: int, height: int) -> tuple[int, int, int, int]:
    """Upstream CropImage: scale the box about its centre (capped so it fits), then shift it
    back inside the image. Returns inclusive (x1, y1, x2, y2)."""
    scale = min((height - 1) / rectangle.height, (width - 1) / rectangle.width, scale)
    new_w, new_h = rectangle.width * scale, rectangle.height * scale
    cx, cy = rectangle.left + rectangle.width / 2, rectangle.top + rectangle.height / 2
    x1, y1, x2, y2 = cx - new_w / 2, cy - new_h / 2, cx + new_w / 2, cy + new_h / 2
    if x1 < 0:
        x2, x1 = x2 - x1, 0
    if y1 < 0:
        y2, y1 = y2 - y1, 0
    if x2 > width - 1:
        x1, x2 = x1 - (x2 - width + 1), width - 1
    if y2 > height - 1:
        y1, y2 = y1 - (y2 - height + 1), height - 1
    return int(x1), int(y1), int(x2), int(y2)


def crop_patch(image_bgr: np.ndarray, rectangle: Rectangle, scale: float) -> np.ndarray:
    height, width = image_bgr.shape[:2]
    x1, y1, x2, y2 = context_box(rectangle, scale, width, height)
    patch = cv2.resize(image_bgr[y1 : y2 + 1, x1 : x2 + 1], (INPUT_SIZE, INPUT_SIZE))
    return patch.transpose(2, 0, 1)[None].astype(np.float32)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


def fuse(probabilities: list[np.ndarray]) -> LivenessScore:
    total = np.sum(probabilities, axis=0)
    label = int(np.argmax(total))
    return LivenessScore(
        is_live=label == REAL_CLASS,
        score=float(total[label] / len(probabilities)),
        real_probability=float(total[REAL_CLASS] / len(probabilities)),
    )


class MiniFasNet(OnnxModel):
    context_scale: float

    def real_fake_probabilities(self, image_bgr: np.ndarray, rectangle: Rectangle) -> np.ndarray:
        (logits,) = self.run_single(crop_patch(image_bgr, rectangle, self.context_scale))
        return softmax(logits[0])


class MiniFasNetV2(MiniFasNet):
    model_name = "minifasnet_v2"
    context_scale = 2.7


class MiniFasNetV1SE(MiniFasNet):
    model_name = "minifasnet_v1se"
    context_scale = 4.0


class LivenessChecker:
    def __init__(self) -> None:
        self.models = (MiniFasNetV2(), MiniFasNetV1SE())

    def score(self, image_bgr: np.ndarray, rectangle: Rectangle) -> LivenessScore:
        return fuse([model.real_fake_probabilities(image_bgr, rectangle) for model in self.models])

    def warm_up(self) -> None:
        for model in self.models:
            model.warm_up()

"""YuNet face detector (libfacedetection) on onnxruntime, decoded and NMS'd in numpy.

Input scale: Azure finds faces down to 36 px in images up to 1920x1080, and bigger images
need proportionally bigger faces. YuNet's stride-8 head still finds an 18 px face, so every
image is shrunk so that Azure's smallest face (36 px) reaches the model at
FACE_DETECT_MIN_FACE_PX (default 18): a scale of 0.5 for any image up to 1920x1080. Larger
images are shrunk further, to a longer side of FACE_DETECT_MAX_SIDE (default 960), so
detection cost stays bounded. Measured on the shared photos: the same face counts as at full
size (persons, multi, noface), every 36 px face pasted into a 1920x1080 canvas found, and
detection 3.7x faster than with only the 960 px cap (5.0 vs 18.6 ms per photo, 1 thread).

Score threshold FACE_DETECT_SCORE (default 0.8): the level at which the test photos give
exactly the expected counts (one face per portrait, none on the no-face set, the MANIFEST
counts on the group photos). OpenCV's FaceDetectorYN uses 0.9, which misses half-hidden faces.
"""
from __future__ import annotations

import cv2
import numpy as np

from shared.engine.onnx_model import OnnxModel
from shared.engine.types import DetectedFace, Rectangle
from shared.settings import env_float, env_int

STRIDES = (8, 16, 32)
NMS_IOU = 0.3
PRE_NMS_TOP_K = 5000
# A face filling the frame (a selfie close-up) gives YuNet no context and is missed; on a
# grey border of this fraction of the longer side it is found. Only tried when the first
# pass finds nothing, so only face-less images pay for a second pass.
CLOSE_UP_PADDING = 0.25
PAD_GREY = (127, 127, 127)


AZURE_MIN_FACE_PX = 36


def detection_scale(width: int, height: int, max_side: int, min_face_px: float) -> float:
    return min(1.0, min_face_px / AZURE_MIN_FACE_PX, max_side / max(width, height))


def to_input_tensor(image_bgr: np.ndarray, scale: float, border: int = 0) -> np.ndarray:
    """Resize by ``scale``, add a grey ``border`` (pixels after resizing), and zero-pad
    bottom/right to multiples of 32 (the largest stride)."""
    if scale != 1.0:
        height, width = image_bgr.shape[:2]
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image_bgr = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA)
    if border:
        image_bgr = cv2.copyMakeBorder(image_bgr, border, border, border, border, cv2.BORDER_CONSTANT, value=PAD_GREY)
    height, width = image_bgr.shape[:2]
    # Padded while still uint8, then converted a contiguous plane at a time: a quarter faster
    # than converting the transposed (strided) view into a zeroed tensor.
    padded = cv2.copyMakeBorder(image_bgr, 0, -height % 32, 0, -width % 32, cv2.BORDER_CONSTANT, value=0)
    tensor = np.empty((1, 3, *padded.shape[:2]), dtype=np.float32)
    for channel, plane in enumerate(cv2.split(padded)):
        tensor[0, channel] = plane
    return tensor


def decode_outputs(outputs: dict[str, np.ndarray], input_hw: tuple[int, int], threshold: float) -> np.ndarray:
    """YuNet heads -> (n, 15) rows: x, y, w, h, 5 landmark (x, y), score (input pixels)."""
    rows = []
    for stride in STRIDES:
        cols = input_hw[1] // stride
        cls = outputs[f"cls_{stride}"].reshape(-1)
        obj = outputs[f"obj_{stride}"].reshape(-1)
        score = np.sqrt(np.clip(cls, 0, 1) * np.clip(obj, 0, 1))
        keep = np.flatnonzero(score >= threshold)
        if keep.size == 0:
            continue
        bbox = outputs[f"bbox_{stride}"].reshape(-1, 4)[keep]
        kps = outputs[f"kps_{stride}"].reshape(-1, 10)[keep]
        anchor_x = (keep % cols).astype(np.float32)
        anchor_y = (keep // cols).astype(np.float32)
        cx = (anchor_x + bbox[:, 0]) * stride
        cy = (anchor_y + bbox[:, 1]) * stride
        w = np.exp(bbox[:, 2]) * stride
        h = np.exp(bbox[:, 3]) * stride
        points = np.empty_like(kps)
        points[:, 0::2] = (kps[:, 0::2] + anchor_x[:, None]) * stride
        points[:, 1::2] = (kps[:, 1::2] + anchor_y[:, None]) * stride
        rows.append(np.column_stack([cx - w / 2, cy - h / 2, w, h, points, score[keep]]))
    return np.concatenate(rows) if rows else np.empty((0, 15), dtype=np.float32)


def iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """IoU between (n, 4) and (m, 4) boxes given as x, y, w, h."""
    ax2, ay2 = boxes_a[:, 0] + boxes_a[:, 2], boxes_a[:, 1] + boxes_a[:, 3]
    bx2, by2 = boxes_b[:, 0] + boxes_b[:, 2], boxes_b[:, 1] + boxes_b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(boxes_a[:, None, 0], boxes_b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(boxes_a[:, None, 1], boxes_b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (boxes_a[:, 2] * boxes_a[:, 3])[:, None] + (boxes_b[:, 2] * boxes_b[:, 3])[None] - inter
    return inter / np.maximum(union, 1e-9)


def nms(detections: np.ndarray, iou_threshold: float = NMS_IOU, top_k: int = PRE_NMS_TOP_K) -> np.ndarray:
    """Greedy non-maximum suppression on (n, 15) rows, best score first."""
    order = np.argsort(-detections[:, 14])[:top_k]
    detections = detections[order]
    overlaps = iou_matrix(detections[:, :4], detections[:, :4])
    suppressed = np.zeros(len(detections), dtype=bool)
    keep = []
    for i in range(len(detections)):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= overlaps[i] > iou_threshold
    return detections[keep]


def clip_rectangle(x: float, y: float, w: float, h: float, width: int, height: int) -> Rectangle | None:
    """Integer rectangle inside the image, or None if nothing of it is inside."""
    left, top = max(0, round(x)), max(0, round(y))
    right, bottom = min(width, round(x + w)), min(height, round(y + h))
    if right <= left or bottom <= top:
        return None
    return Rectangle(left=left, top=top, width=right - left, height=bottom - top)


def to_faces(detections: np.ndarray, width: int, height: int, max_faces: int) -> list[DetectedFace]:
    """Rows in image pixels -> faces with integer rectangles inside the image, largest first."""
    faces = []
    for row in detections:
        rectangle = clip_rectangle(*row[:4], width, height)
        if rectangle is not None:
            points = row[4:14].reshape(5, 2).astype(np.float32)
            faces.append(DetectedFace(rectangle=rectangle, score=float(row[14]), points5=points))
    faces.sort(key=lambda face: (-face.rectangle.area, -face.score))
    return faces[:max_faces]


class YuNetDetector(OnnxModel):
    model_name = "yunet_dynamic"

    def detect(self, image_bgr: np.ndarray, max_faces: int = 100) -> list[DetectedFace]:
        height, width = image_bgr.shape[:2]
        detections = self.detect_rows(image_bgr)
        if len(detections) == 0:
            detections = self.detect_rows(image_bgr, pad=round(max(height, width) * CLOSE_UP_PADDING))
        return to_faces(detections, width, height, max_faces)

    def detect_rows(self, image_bgr: np.ndarray, pad: int = 0) -> np.ndarray:
        """(n, 15) rows after NMS, in pixels of ``image_bgr``: x, y, w, h, 5 points, score.
        ``pad``: detect as if the image had a grey border this wide; the border is added
        after shrinking, so a large image is never copied at full size with its border."""
        height, width = image_bgr.shape[:2]
        scale = detection_scale(
            width + 2 * pad, height + 2 * pad, env_int("FACE_DETECT_MAX_SIDE", 960),
            env_float("FACE_DETECT_MIN_FACE_PX", 18.0)
        )
        border = round(pad * scale)
        tensor = to_input_tensor(image_bgr, scale, border)
        names = [output.name for output in self.session().get_outputs()]
        outputs = dict(zip(names, self.run({self.input_name: tensor})))
        detections = decode_outputs(outputs, tensor.shape[2:], env_float("FACE_DETECT_SCORE", 0.8))
        if len(detections) == 0:
            return detections
        detections = nms(detections)
        detections[:, [0, 1]] -= border
        detections[:, 4:14] -= border
        detections[:, :14] /= scale
        return detections

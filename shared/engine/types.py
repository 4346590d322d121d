"""The engine's contract with the rest of the service: plain data in, plain data out.

Coordinates are pixels of the decoded, EXIF-upright image (x right, y down).
"Left"/"right" in landmark names follow Azure's responses: image-left (the subject's right);
see docs/landmarks-and-attributes.md for the evidence.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

DETECTION_MODELS = ("detection_01", "detection_02", "detection_03")
RECOGNITION_MODELS = ("recognition_01", "recognition_02", "recognition_03", "recognition_04")


@dataclass(frozen=True)
class Rectangle:
    left: int
    top: int
    width: int
    height: int

    @property
    def area(self) -> int:
        return self.width * self.height

    def as_dict(self) -> dict:
        return {"top": self.top, "left": self.left, "width": self.width, "height": self.height}


@dataclass(frozen=True)
class Template:
    """One face embedding and what produced it.

    ``embedder`` and ``embedder_version`` name the network (e.g. "dlib_resnet_v1", "1");
    ``recognition_model`` is the Azure name the caller asked for. Templates compare only
    when all three are equal.
    """

    vector: np.ndarray  # float32, shape (d,)
    embedder: str
    embedder_version: str
    recognition_model: str


@dataclass(frozen=True)
class DetectOptions:
    detection_model: str = "detection_01"
    recognition_models: tuple[str, ...] = ()  # one template per model; empty = no embedding
    return_landmarks: bool = False
    attributes: tuple[str, ...] = ()  # Azure attribute names, e.g. ("headPose", "blur")
    target_face: Rectangle | None = None  # add-face: keep only the face this rectangle picks
    max_faces: int = 100
    # Embedder per recognition model where the caller must not follow the current default:
    # a gallery keeps embedding with the embedder it was created with.
    embedders: Mapping[str, str] = field(default_factory=dict)


@dataclass
class DetectedFace:
    rectangle: Rectangle
    score: float
    points5: np.ndarray  # (5, 2) float32: right eye, left eye, nose tip, right mouth, left mouth (YuNet order)
    landmarks: dict[str, tuple[float, float]] | None = None  # Azure's 27 names, in spec order
    attributes: dict = field(default_factory=dict)  # Azure JSON shapes (v1.2 casing)
    templates: dict[str, Template] = field(default_factory=dict)  # by recognition model name


@dataclass(frozen=True)
class LivenessScore:
    is_live: bool
    score: float  # confidence of the decision, 0..1
    real_probability: float  # fused probability of class "real", 0..1

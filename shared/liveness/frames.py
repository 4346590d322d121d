"""One captured frame as the engine sees it: its faces, and on demand the face's anti-spoofing
score, head pose, image quality and template. Decoding and detection run once per frame;
everything else only for the frames a decision looks at."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from shared.engine import image_quality
from shared.engine.embedders import get_embedder
from shared.engine.engine import get_engine
from shared.engine.head_pose import head_pose
from shared.engine.imaging import decode_image
from shared.engine.types import DetectedFace, Template

MAX_FACES_SEEN = 4  # enough to tell "one face" from "several"


@dataclass(frozen=True)
class Frame:
    index: int
    offset_ms: int  # capture time since the first frame, as the client reported it
    data: bytes  # JPEG bytes as received


class FrameView:
    def __init__(self, frame: Frame):
        self.frame = frame
        self.image_bgr = decode_image(frame.data)
        self.faces: list[DetectedFace] = get_engine().detector.detect(self.image_bgr, MAX_FACES_SEEN)

    @property
    def face(self) -> DetectedFace | None:
        """The face, when the frame shows exactly one."""
        return self.faces[0] if len(self.faces) == 1 else None

    @property
    def face_side(self) -> int:
        return min(self.face.rectangle.width, self.face.rectangle.height) if self.face else 0

    @cached_property
    def well_exposed_and_sharp(self) -> bool:
        gray = image_quality.face_gray(self.image_bgr, self.face.rectangle)
        blur = image_quality.level(image_quality.blur_value(gray), image_quality.BLUR_BANDS)
        exposure = image_quality.level(image_quality.exposure_value(gray), image_quality.EXPOSURE_BANDS)
        return blur != "high" and exposure == "goodExposure"

    @cached_property
    def real_probability(self) -> float:
        """MiniFASNet's fused probability that the face is a live one."""
        return get_engine().liveness_checker.score(self.image_bgr, self.face.rectangle).real_probability

    @cached_property
    def mesh(self) -> np.ndarray:
        """The face's face-mesh pass: head pose and a dlib-aligned template read the same one."""
        return get_engine().landmarker.mesh(self.image_bgr, self.face.points5)

    @cached_property
    def yaw(self) -> float:
        return head_pose(self.mesh)["yaw"]

    def template(self, embedder_name: str, recognition_model: str) -> Template:
        embedder = get_embedder(embedder_name)
        mesh = self.mesh if embedder.uses_mesh else None
        vector = np.asarray(embedder.embed([embedder.align(self.image_bgr, self.face.points5, mesh)])[0])
        return Template(vector, embedder.name, embedder.version, recognition_model)

"""Detect: run the engine on an image and issue short-lived faceIds for what it found.

The image exists only in this call's memory. With returnFaceId, each face's template (for
the requested recognition model) is stored encrypted under a new random faceId that
expires after the requested time-to-live.
"""
from __future__ import annotations

from dataclasses import dataclass

from shared import telemetry
from shared.engine.types import DetectedFace, DetectOptions
from shared.storage.faceids import FaceIdStore

MAX_FACES = 100
QUALITY = "qualityForRecognition"


@dataclass(frozen=True)
class DetectRequest:
    detection_model: str = "detection_01"
    recognition_model: str = "recognition_01"
    return_face_id: bool = True
    return_landmarks: bool = False
    return_recognition_model: bool = False
    attributes: tuple[str, ...] = ()
    face_id_ttl: int = 86400


@dataclass(frozen=True)
class DetectedResult:
    face: DetectedFace
    face_id: str | None  # None unless returnFaceId


def detect(image: bytes, request: DetectRequest) -> list[DetectedResult]:
    faces = _engine().detect(image, _engine_options(request))
    faces.sort(key=lambda face: -face.rectangle.area)  # Azure: largest first
    telemetry.faces_detected(len(faces), request.detection_model)
    if not request.return_face_id:
        return [DetectedResult(face, None) for face in faces]
    templates = [face.templates[request.recognition_model] for face in faces]
    face_ids = FaceIdStore().put_all(templates, request.face_id_ttl)
    return [DetectedResult(face, face_id) for face, face_id in zip(faces, face_ids)]


def _engine_options(request: DetectRequest) -> DetectOptions:
    # The quality rating depends on the recognition model, so it needs one even without faceIds.
    wants_model = request.return_face_id or QUALITY in request.attributes
    return DetectOptions(
        detection_model=request.detection_model,
        recognition_models=(request.recognition_model,) if wants_model else (),
        return_landmarks=request.return_landmarks,
        attributes=request.attributes,
        max_faces=MAX_FACES,
    )


def _engine():
    from shared.engine.engine import get_engine  # loads ONNX runtime: only where faces are detected

    return get_engine()

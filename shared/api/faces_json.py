"""Detected faces in Azure's JSON shape (FaceDetectionResult / v1.0 DetectedFace)."""
from __future__ import annotations

from shared.api.versions import ApiVersion
from shared.services.detect import DetectedResult, DetectRequest


def detection_json(result: DetectedResult, request: DetectRequest, version: ApiVersion) -> dict:
    face = result.face
    item: dict = {}
    if result.face_id is not None:
        item["faceId"] = result.face_id
        if request.return_recognition_model:
            item["recognitionModel"] = request.recognition_model
    item["faceRectangle"] = face.rectangle.as_dict()
    if request.return_landmarks and face.landmarks is not None:
        item["faceLandmarks"] = {name: {"x": float(x), "y": float(y)} for name, (x, y) in face.landmarks.items()}
    if request.attributes:
        item["faceAttributes"] = _spelled(face.attributes, version)
    return item


def _spelled(value: object, version: ApiVersion) -> object:
    """Attribute values in the version's enum spelling (v1.0 capitalises levels)."""
    if isinstance(value, dict):
        return {key: _spelled(item, version) for key, item in value.items()}
    if isinstance(value, list):
        return [_spelled(item, version) for item in value]
    if isinstance(value, str):
        return version.spell(value)
    return value

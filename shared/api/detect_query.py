"""Detect's query string -> DetectRequest, with Azure's defaults and ranges (face-api.md §4)."""
from __future__ import annotations

from shared.api.params import Query, checked_choice
from shared.api.versions import ApiVersion
from shared.engine.types import DETECTION_MODELS, RECOGNITION_MODELS
from shared.services.detect import DetectRequest

TTL_MIN, TTL_MAX, TTL_DEFAULT = 60, 86400, 86400


def detect_request(query: Query, version: ApiVersion) -> DetectRequest:
    return DetectRequest(
        detection_model=query.choice("detectionModel", "detection_01", DETECTION_MODELS),
        recognition_model=query.choice("recognitionModel", "recognition_01", RECOGNITION_MODELS),
        return_face_id=query.boolean("returnFaceId", True),
        return_landmarks=query.boolean("returnFaceLandmarks", False),
        return_recognition_model=query.boolean("returnRecognitionModel", False),
        attributes=attribute_names(query, version),
        face_id_ttl=query.integer("faceIdTimeToLive", TTL_DEFAULT, TTL_MIN, TTL_MAX),
    )


def attribute_names(query: Query, version: ApiVersion) -> tuple[str, ...]:
    """returnFaceAttributes in canonical spelling, each once; whether the detection model
    offers them (and whether we compute them) is the engine's call."""
    names = [checked_choice("returnFaceAttributes", name, version.attribute_names)
             for name in query.csv("returnFaceAttributes")]
    return tuple(dict.fromkeys(names))

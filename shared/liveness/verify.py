"""Liveness-with-verify: the verify image given at create, and the match of each attempt.

The verify image lives only in this request's memory: it must show exactly one face, whose
template (recognition_04's embedder) is kept, encrypted on the session row, with the face
rectangle, its qualityForRecognition and the image's sha256. Each attempt's chosen face is
embedded with the same embedder and compared with Azure's calibrated confidence.
"""
from __future__ import annotations

import hashlib

from shared.engine.engine import get_engine, embedder_for
from shared.engine.matching import SAME_PERSON_CONFIDENCE, check_compatible, confidence, distances
from shared.engine.types import DetectOptions, Template
from shared.errors import InvalidImage
from shared.liveness.records import VerifyReference

DETECTION_MODEL, RECOGNITION_MODEL = "detection_03", "recognition_04"


def verify_reference(image: bytes, return_hash: bool, threshold: float | None) -> VerifyReference:
    embedder = embedder_for(RECOGNITION_MODEL)
    options = DetectOptions(detection_model=DETECTION_MODEL, recognition_models=(RECOGNITION_MODEL,),
                            attributes=("qualityForRecognition",), embedders={RECOGNITION_MODEL: embedder})
    faces = get_engine().detect(image, options)
    if not faces:
        raise InvalidImage("No face detected in the image.")
    if len(faces) > 1:
        raise InvalidImage("There is more than 1 face in the image.")
    face = faces[0]
    return VerifyReference(face.rectangle, face.attributes["qualityForRecognition"],
                           hashlib.sha256(image).hexdigest(), face.templates[RECOGNITION_MODEL], return_hash, threshold)


def match(reference: VerifyReference, template: Template) -> tuple[float, bool]:
    """(matchConfidence, isIdentical) of an attempt's face against the verify image."""
    check_compatible(reference.template, template)
    score = float(confidence(float(distances(template.vector, reference.template.vector[None, :])[0]),
                             template.embedder))
    threshold = SAME_PERSON_CONFIDENCE if reference.threshold is None else reference.threshold
    return round(score, 5), score >= threshold

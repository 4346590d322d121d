"""Verify: are two faces the same person? (face-api.md §5.1)"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.engine.matching import check_compatible, confidence, distances, is_identical
from shared.engine.types import Template
from shared.storage.faceids import FaceIdStore


@dataclass(frozen=True)
class VerifyResult:
    is_identical: bool
    confidence: float

    def as_json(self) -> dict:
        return {"isIdentical": self.is_identical, "confidence": round(self.confidence, 5)}


def verify_templates(query: Template, references: list[Template]) -> VerifyResult:
    """Against the closest of ``references`` (one face, or all of a person's faces).
    Every reference must come from the same model as the query (else 400 BadArgument)."""
    for reference in references:
        check_compatible(query, reference)
    gallery = np.stack([reference.vector for reference in references])
    score = float(confidence(float(distances(query.vector, gallery).min()), query.embedder))
    return VerifyResult(bool(is_identical(score)), score)


def verify_faces(face_id1: str, face_id2: str) -> VerifyResult:
    templates = FaceIdStore().get_many([face_id1, face_id2])
    return verify_templates(templates[face_id1], [templates[face_id2]])

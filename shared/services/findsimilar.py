"""Find similar: rank candidate faces by likeness to a query face (face-api.md §5.3).

matchPerson keeps only candidates above the same-person threshold; matchFace ranks every
candidate by similarity. Candidates come from faceIds here; galleries (face lists) supply
their own ids and templates to the same ranking.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shared.engine.matching import check_compatible, confidence, distances, is_identical
from shared.engine.types import Template
from shared.storage.faceids import FaceIdStore

MATCH_PERSON, MATCH_FACE = "matchPerson", "matchFace"
MODES = (MATCH_PERSON, MATCH_FACE)


@dataclass(frozen=True)
class Similar:
    candidate_id: str
    confidence: float


def rank_similar(query: Template, candidate_ids: Sequence[str], candidates: Sequence[Template],
                 mode: str, max_candidates: int) -> list[Similar]:
    """The best ``max_candidates`` candidates, most similar first."""
    if not candidates:
        return []
    for candidate in candidates:
        check_compatible(query, candidate)
    gallery = np.stack([candidate.vector for candidate in candidates])
    scores = np.atleast_1d(confidence(distances(query.vector, gallery), query.embedder)).tolist()
    ranked = sorted(zip(candidate_ids, scores), key=lambda pair: -pair[1])
    if mode == MATCH_PERSON:
        ranked = [(cid, score) for cid, score in ranked if is_identical(score)]
    return [Similar(cid, score) for cid, score in ranked[:max_candidates]]


def find_similar_faces(face_id: str, face_ids: Sequence[str], mode: str, max_candidates: int) -> list[Similar]:
    templates = FaceIdStore().get_many([face_id, *face_ids])
    candidate_ids = list(dict.fromkeys(face_ids))
    return rank_similar(templates[face_id], candidate_ids, [templates[cid] for cid in candidate_ids],
                        mode, max_candidates)

"""1:N queries against galleries: identify, find-similar in (large) face lists, verify to a person.

Trained kinds answer from the published snapshot (kept warm per process by snapshots.CACHE).
Ids deleted since that snapshot are read from the tombstones *before* the container row: a
training that publishes after our row read cannot have removed tombstones we still need.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from shared import telemetry
from shared.engine import matching
from shared.engine.types import Template
from shared.errors import BadArgument, Conflict
from shared.galleries import repository, snapshots
from shared.galleries.kinds import ContainerKind
from shared.galleries.records import Container
from shared.index.gallery import EmbedderInfo, GalleryIndex
from shared.index.labels import Exclusions
from shared.services.findsimilar import MATCH_PERSON, rank_similar


def default_threshold() -> float:
    """Identify's default confidenceThreshold: the engine's same-person decision point."""
    return matching.SAME_PERSON_CONFIDENCE


def identify(kind: ContainerKind, container_id: str, queries: list[tuple[str, Template]],
             max_candidates: int, threshold: float) -> list[dict]:
    """One result per (faceId, template) in request order."""
    with telemetry.identify_timer(kind.key, len(queries)):
        index, hidden = _trained_index(kind, container_id, [template for _, template in queries])
        results = []
        for face_id, template in queries:
            matches = index.search_persons(template.vector, k=max_candidates, exclude=hidden)[0]
            scored = [(m.person_id, _confidence(m.distance, template)) for m in matches]
            candidates = [{"personId": person, "confidence": conf} for person, conf in scored if conf >= threshold]
            candidates.sort(key=lambda c: -c["confidence"])
            results.append({"faceId": face_id, "candidates": candidates})
    return results


def find_similar(kind: ContainerKind, container_id: str, query: Template, max_candidates: int,
                 mode: str) -> list[dict]:
    if not kind.trained:
        return _find_similar_exact(kind, container_id, query, max_candidates, mode)
    index, hidden = _trained_index(kind, container_id, [query])
    matches = index.search(query.vector, k=max_candidates, exclude=hidden)[0]
    found = [{"persistedFaceId": m.face_id, "confidence": _confidence(m.distance, query)} for m in matches]
    if mode == MATCH_PERSON:
        found = [item for item in found if matching.is_identical(item["confidence"])]
    return found


def _find_similar_exact(kind: ContainerKind, container_id: str, query: Template, max_candidates: int,
                        mode: str) -> list[dict]:
    """FaceList: every live face scored, with the same ranking as find-similar over faceIds."""
    container = repository.get_container(kind, container_id)
    _check_model(container, [query])
    face_ids, templates = _LIVE_FACES.get(container)
    ranked = rank_similar(query, face_ids, templates, mode, max_candidates)
    return [{"persistedFaceId": item.candidate_id, "confidence": round(item.confidence, 5)} for item in ranked]


class _LiveFaceCache:
    """A FaceList's faces and opened templates per process, reused while the container row's
    ETag is unchanged (every face add/delete rewrites the row): reading and opening 1,000
    templates costs ~300 ms against ~5 ms for the row read."""

    MAX_LISTS = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[str, list[str], list[Template]]] = OrderedDict()

    def get(self, container: Container) -> tuple[list[str], list[Template]]:
        key = f"{container.kind.key}/{container.container_id}/{container.incarnation}"
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] != container.version:
            rows = list(repository.face_templates(container.incarnation))
            entry = (container.version, [face.face_id for face, _ in rows], [t for _, t in rows])
            with self._lock:
                self._entries[key] = entry
                self._entries.move_to_end(key)
                while len(self._entries) > self.MAX_LISTS:
                    self._entries.popitem(last=False)
        return entry[1], entry[2]


_LIVE_FACES = _LiveFaceCache()


def verify_to_person(kind: ContainerKind, container_id: str, person_id: str, query: Template) -> dict:
    """Compare with the person's current faces (no training needed); the best face decides."""
    container = repository.get_container(kind, container_id)
    _check_model(container, [query])
    templates = repository.templates_of(container.incarnation,
                                        repository.get_person(container.incarnation, person_id).face_ids)
    if not templates:
        return {"isIdentical": False, "confidence": 0.0}
    for template in templates:
        matching.check_compatible(query, template)
    best = float(matching.distances(query.vector, np.vstack([t.vector for t in templates])).min())
    confidence = _confidence(best, query)
    return {"isIdentical": matching.is_identical(confidence), "confidence": confidence}


def _trained_index(kind: ContainerKind, container_id: str, queries: list[Template]) -> tuple[GalleryIndex, Exclusions]:
    hidden = repository.tombstones(kind, container_id)
    container = repository.get_container(kind, container_id)
    _check_model(container, queries)
    if not container.has_snapshot:
        if container.first_training_running:
            raise Conflict(f"{kind.label} '{container_id}' is still training.", code=kind.training_conflict_code)
        raise BadArgument(f"{kind.label} '{container_id}' is not trained.", code=kind.not_trained_code)
    index = snapshots.index(container)
    for template in queries:
        if EmbedderInfo(template.embedder, template.embedder_version) != index.embedder:
            raise BadArgument("The faces were made by a different recognition engine version than the "
                              f"trained {kind.display}; train it again.")
    return index, Exclusions(face_ids=hidden, person_ids=hidden)


def _check_model(container: Container, queries) -> None:
    for template in queries:
        if template.recognition_model != container.recognition_model:
            raise BadArgument(f"The recognition model of the faces ({template.recognition_model}) differs from "
                              f"the {container.kind.display}'s ({container.recognition_model}).")
        if template.embedder != container.embedder:
            raise BadArgument(
                f"The faces were embedded by '{template.embedder}', the current engine of {template.recognition_model}, "
                f"but the {container.kind.display} '{container.container_id}' holds '{container.embedder}' templates "
                f"from before that changed; add its faces to a new {container.kind.display} to search it.")


def _confidence(distance: float, query: Template) -> float:
    return round(float(matching.confidence(distance, query.embedder)), 5)

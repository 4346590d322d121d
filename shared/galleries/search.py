"""1:N queries against galleries: identify, find-similar in (large) face lists, verify to a person.

Trained kinds answer from the published snapshot (kept warm per process by snapshots.CACHE).
Ids deleted since that snapshot are read from the tombstones *before* the container row: a
training that publishes after our row read cannot have removed tombstones we still need.
"""
from __future__ import annotations

from shared import telemetry
from shared.engine import matching
from shared.engine.types import Template
from shared.errors import BadArgument, Conflict
from shared.galleries import postgres_index, repository, snapshots
from shared.galleries.kinds import ContainerKind
from shared.galleries.records import Container
from shared.galleries.versioned_cache import VersionedCache
from shared.index.gallery import EmbedderInfo, GalleryIndex
from shared.index.labels import Exclusions
from shared.services.findsimilar import MATCH_PERSON, rank_similar
from shared.services.verify import verify_templates


def default_threshold() -> float:
    """Identify's default confidenceThreshold: the engine's same-person decision point."""
    return matching.SAME_PERSON_CONFIDENCE


def identify(kind: ContainerKind, container_id: str, queries: list[tuple[str, Template]],
             max_candidates: int, threshold: float) -> list[dict]:
    """One result per (faceId, template) in request order."""
    templates = [template for _, template in queries]
    with telemetry.identify_timer(kind.key, len(queries)):
        if postgres_index.applies(kind):
            container = _trained_container(kind, container_id, templates)
            nearest = postgres_index.nearest_persons(container, [t.vector for t in templates], max_candidates)
            return [identified(face_id, template, found, threshold)
                    for (face_id, template), found in zip(queries, nearest)]
        index, hidden = _trained_index(kind, container_id, templates)
        results = []
        for face_id, template in queries:
            matches = index.search_persons(template.vector, k=max_candidates, exclude=hidden)[0]
            results.append(identified(face_id, template, [(m.person_id, m.distance) for m in matches], threshold))
    return results


def identified(face_id: str, query: Template, nearest: list[tuple[str, float]], threshold: float) -> dict:
    """Identify's answer for one query face from its nearest persons (person id, distance)."""
    scored = [(person, _confidence(distance, query)) for person, distance in nearest]
    candidates = [{"personId": person, "confidence": conf} for person, conf in scored if conf >= threshold]
    candidates.sort(key=lambda c: -c["confidence"])
    return {"faceId": face_id, "candidates": candidates}


def find_similar(kind: ContainerKind, container_id: str, query: Template, max_candidates: int,
                 mode: str) -> list[dict]:
    if not kind.trained:
        return _find_similar_exact(kind, container_id, query, max_candidates, mode)
    if postgres_index.applies(kind):
        container = _trained_container(kind, container_id, [query])
        nearest = postgres_index.nearest_faces(container, query.vector, max_candidates)
    else:
        index, hidden = _trained_index(kind, container_id, [query])
        nearest = [(m.face_id, m.distance) for m in index.search(query.vector, k=max_candidates, exclude=hidden)[0]]
    found = [{"persistedFaceId": face_id, "confidence": _confidence(distance, query)} for face_id, distance in nearest]
    if mode == MATCH_PERSON:
        found = [item for item in found if matching.is_identical(item["confidence"])]
    return found


def _find_similar_exact(kind: ContainerKind, container_id: str, query: Template, max_candidates: int,
                        mode: str) -> list[dict]:
    """FaceList: every live face scored, with the same ranking as find-similar over faceIds."""
    container = repository.get_container(kind, container_id)
    _check_model(container, [query])
    face_ids, templates = _live_faces(container)
    ranked = rank_similar(query, face_ids, templates, mode, max_candidates)
    return [{"persistedFaceId": item.candidate_id, "confidence": round(item.confidence, 5)} for item in ranked]


# A FaceList's faces and opened templates per process, reused while the container row's ETag is
# unchanged (every face add/delete rewrites the row): reading and opening 1,000 templates costs
# ~300 ms against ~5 ms for the row read.
_LIVE_FACES: VersionedCache[tuple[list[str], list[Template]]] = VersionedCache(max_entries=256)


def _live_faces(container: Container) -> tuple[list[str], list[Template]]:
    def load() -> tuple[list[str], list[Template]]:
        rows = list(repository.face_templates(container.incarnation))
        return [face.face_id for face, _ in rows], [template for _, template in rows]

    key = f"{container.kind.key}/{container.container_id}/{container.incarnation}"
    return _LIVE_FACES.get(key, container.version, load)


def verify_to_person(kind: ContainerKind, container_id: str, person_id: str, query: Template) -> dict:
    """Compare with the person's current faces (no training needed); the best face decides."""
    container = repository.get_container(kind, container_id)
    _check_model(container, [query])
    templates = repository.templates_of(container.incarnation,
                                        repository.get_person(container.incarnation, person_id).face_ids)
    return verify_to_templates(query, templates)


def verify_to_templates(query: Template, templates: list[Template]) -> dict:
    """Verify against a person's faces; a person without faces is never the query's person."""
    if not templates:
        return {"isIdentical": False, "confidence": 0.0}
    return verify_templates(query, templates).as_json()


def _trained_index(kind: ContainerKind, container_id: str, queries: list[Template]) -> tuple[GalleryIndex, Exclusions]:
    hidden = repository.tombstones(kind, container_id)
    container = _trained_container(kind, container_id, queries)
    index = snapshots.index(container)
    for template in queries:
        if EmbedderInfo(template.embedder, template.embedder_version) != index.embedder:
            raise BadArgument("The faces were made by a different recognition engine version than the "
                              f"trained {kind.display}; train it again.")
    return index, Exclusions(face_ids=hidden, person_ids=hidden)


def _trained_container(kind: ContainerKind, container_id: str, queries: list[Template]) -> Container:
    """The container, once a training succeeded (409 during its first one, 400 before)."""
    container = repository.get_container(kind, container_id)
    _check_model(container, queries)
    if not container.has_snapshot:
        if container.first_training_running:
            raise Conflict(f"{kind.label} '{container_id}' is still training.", code=kind.training_conflict_code)
        raise BadArgument(f"{kind.label} '{container_id}' is not trained.", code=kind.not_trained_code)
    return container


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

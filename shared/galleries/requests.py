"""The gallery requests of the recognition routes: /identify, and the gallery branches of D's
/verify and /findsimilars. Each parses its target, fetches the query faceIds' templates and
runs the search (functions/identification.py and functions/recognition.py call these)."""
from __future__ import annotations

from shared.api.params import Fields
from shared.errors import BadArgument
from shared.galleries import search, validation
from shared.galleries.kinds import LARGE_FACE_LIST, LARGE_PERSON_GROUP, PERSON_GROUP, FACE_LIST, ContainerKind
from shared.storage.faceids import FaceIdStore


def _target(body: Fields, kinds: tuple[ContainerKind, ...]) -> tuple[ContainerKind, str]:
    given = [kind for kind in kinds if body.has(kind.id_field)]
    if len(given) != 1:
        raise BadArgument(f"Exactly one of {' and '.join(k.id_field for k in kinds)} is required.")
    kind = given[0]
    return kind, validation.container_id(body.get(kind.id_field), kind.id_field)


def identify(body: Fields, default_candidates: int) -> list[dict]:
    kind, container_id = _target(body, (PERSON_GROUP, LARGE_PERSON_GROUP))
    face_ids = body.uuid_list("faceIds", 1, 10)
    max_candidates = body.integer("maxNumOfCandidatesReturned", default_candidates, 1, 100)
    threshold = body.number("confidenceThreshold", 0.0, 1.0)
    queries = FaceIdStore().get_many(face_ids)
    return search.identify(kind, container_id, [(face_id, queries[face_id]) for face_id in face_ids],
                           max_candidates, search.default_threshold() if threshold is None else threshold)


def verify_to_person(body: Fields) -> dict:
    kind, container_id = _target(body, (PERSON_GROUP, LARGE_PERSON_GROUP))
    person_id = body.uuid("personId")
    query = FaceIdStore().get(body.uuid("faceId"))
    return search.verify_to_person(kind, container_id, person_id, query)


def find_similar_in_list(body: Fields, face_id: str, mode: str, max_candidates: int) -> list[dict]:
    kind, container_id = _target(body, (FACE_LIST, LARGE_FACE_LIST))
    return search.find_similar(kind, container_id, FaceIdStore().get(face_id), max_candidates, mode)

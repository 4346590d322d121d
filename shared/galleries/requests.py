"""The gallery branches of D's /verify and /findsimilars: parse the target, fetch the query
faceId's template, and run the search (functions/recognition.py calls these)."""
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


def verify_to_person(body: Fields) -> dict:
    kind, container_id = _target(body, (PERSON_GROUP, LARGE_PERSON_GROUP))
    person_id = body.uuid("personId")
    query = FaceIdStore().get(body.uuid("faceId"))
    return search.verify_to_person(kind, container_id, person_id, query)


def find_similar_in_list(body: Fields, face_id: str, mode: str, max_candidates: int) -> list[dict]:
    kind, container_id = _target(body, (FACE_LIST, LARGE_FACE_LIST))
    return search.find_similar(kind, container_id, FaceIdStore().get(face_id), max_candidates, mode)

"""The gallery requests of the recognition routes: /identify, and the gallery branches of D's
/verify and /findsimilars. Each parses its target, fetches the query faceIds' templates and
runs the search (functions/identification.py and functions/recognition.py call these).
PersonDirectory targets (personIds, dynamicPersonGroupId, a bare personId) exist in v1.1+ and
go to shared/directory/search.py."""
from __future__ import annotations

from shared.api.params import Fields
from shared.api.versions import ApiVersion
from shared.directory import search as directory
from shared.errors import BadArgument
from shared.galleries import search, validation
from shared.galleries.kinds import LARGE_FACE_LIST, LARGE_PERSON_GROUP, PERSON_GROUP, FACE_LIST, ContainerKind
from shared.storage.faceids import FaceIdStore

PERSON_GROUPS = (PERSON_GROUP, LARGE_PERSON_GROUP)
DYNAMIC_GROUP, PERSON_IDS = "dynamicPersonGroupId", "personIds"
MAX_PERSON_IDS = 30


def _target_field(body: Fields, fields: list[str]) -> str:
    given = [field for field in fields if body.has(field)]
    if len(given) != 1:
        raise BadArgument(f"Exactly one of {' and '.join(fields)} is required.")
    return given[0]


def _target(body: Fields, kinds: tuple[ContainerKind, ...]) -> tuple[ContainerKind, str]:
    field = _target_field(body, [kind.id_field for kind in kinds])
    kind = next(kind for kind in kinds if kind.id_field == field)
    return kind, validation.container_id(body.get(field), field)


def _directory_target(body: Fields, field: str) -> directory.Target:
    if field == DYNAMIC_GROUP:
        return directory.Target(group_id=validation.container_id(body.get(field), field))
    if body.get(field) == ["*"]:
        return directory.Target()
    return directory.Target(person_ids=tuple(body.uuid_list(field, 1, MAX_PERSON_IDS)))


def identify(body: Fields, version: ApiVersion) -> list[dict]:
    fields = [kind.id_field for kind in PERSON_GROUPS]
    fields += [DYNAMIC_GROUP, PERSON_IDS] if version.directory_targets else []
    field = _target_field(body, fields)
    target = _directory_target(body, field) if field in (DYNAMIC_GROUP, PERSON_IDS) else \
        _target(body, PERSON_GROUPS)
    face_ids = body.uuid_list("faceIds", 1, 10)
    max_candidates = body.integer("maxNumOfCandidatesReturned", version.identify_default_candidates, 1, 100)
    threshold = body.number("confidenceThreshold", 0.0, 1.0)
    threshold = search.default_threshold() if threshold is None else threshold
    found = FaceIdStore().get_many(face_ids)
    queries = [(face_id, found[face_id]) for face_id in face_ids]
    if isinstance(target, directory.Target):
        return directory.identify(queries, target, max_candidates, threshold)
    kind, container_id = target
    return search.identify(kind, container_id, queries, max_candidates, threshold)


def verify_to_person(body: Fields, version: ApiVersion) -> dict:
    """To a person of a (large) person group, or (v1.1+) of the PersonDirectory when no group is named."""
    if version.directory_targets and not any(body.has(kind.id_field) for kind in PERSON_GROUPS):
        person_id = body.uuid("personId")
        return directory.verify(FaceIdStore().get(body.uuid("faceId")), person_id)
    kind, container_id = _target(body, PERSON_GROUPS)
    person_id = body.uuid("personId")
    query = FaceIdStore().get(body.uuid("faceId"))
    return search.verify_to_person(kind, container_id, person_id, query)


def find_similar_in_list(body: Fields, face_id: str, mode: str, max_candidates: int) -> list[dict]:
    kind, container_id = _target(body, (FACE_LIST, LARGE_FACE_LIST))
    return search.find_similar(kind, container_id, FaceIdStore().get(face_id), max_candidates, mode)

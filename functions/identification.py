"""Identify (face-api.md §5.2): query faces against a trained PersonGroup or LargePersonGroup."""
import azure.functions as func

from shared.api.auth import Role
from shared.api.handler import Call, face_operation, face_route
from shared.errors import BadArgument
from shared.galleries import search, validation
from shared.galleries.kinds import LARGE_PERSON_GROUP, PERSON_GROUP
from shared.storage.faceids import FaceIdStore

bp = func.Blueprint()


@bp.route(route=face_route("identify"), methods=["POST"])
@face_operation(Role.RECOGNIZER)
def identify(call: Call) -> list:
    fields = call.json()
    targets = [kind for kind in (PERSON_GROUP, LARGE_PERSON_GROUP) if fields.has(kind.id_field)]
    if len(targets) != 1:
        raise BadArgument("Exactly one of personGroupId and largePersonGroupId is required.")
    kind = targets[0]
    container_id = validation.container_id(fields.get(kind.id_field), kind.id_field)
    face_ids = fields.uuid_list("faceIds", 1, 10)
    max_candidates = fields.integer("maxNumOfCandidatesReturned", call.version.identify_default_candidates, 1, 100)
    threshold = fields.number("confidenceThreshold", 0.0, 1.0)
    queries = FaceIdStore().get_many(face_ids)
    return search.identify(kind, container_id, [(face_id, queries[face_id]) for face_id in face_ids],
                           max_candidates, search.default_threshold() if threshold is None else threshold)

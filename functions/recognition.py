"""Recognition: POST /verify, /findsimilars, /group (face-api.md §5).

The faceId-only variants run here; gallery targets (verify against a person, find-similar
in a face list) branch to the galleries area.
"""
import azure.functions as func

from shared.api.auth import Role
from shared.api.handler import Call, face_operation, face_route
from shared.errors import BadArgument
from shared.galleries import requests as galleries
from shared.services.findsimilar import MATCH_PERSON, MODES, find_similar_faces
from shared.services.group import group_faces
from shared.services.verify import verify_faces

bp = func.Blueprint()
MAX_CANDIDATE_FACES = 1000
MAX_GROUP_FACES = 1000
FIND_SIMILAR_TARGETS = ("faceIds", "faceListId", "largeFaceListId")


@bp.route(route=face_route("verify"), methods=["POST"])
@face_operation(Role.RECOGNIZER)
def verify(call: Call) -> dict:
    body = call.json()
    if body.has("faceId1") or body.has("faceId2"):
        return verify_faces(body.uuid("faceId1"), body.uuid("faceId2")).as_json()
    if body.has("personId"):
        return galleries.verify_to_person(body, call.version)
    raise BadArgument("Request body is invalid: expected faceId1 and faceId2, or faceId and personId.")


@bp.route(route=face_route("findsimilars"), methods=["POST"])
@face_operation(Role.RECOGNIZER)
def find_similar(call: Call) -> list:
    body = call.json()
    face_id = body.uuid("faceId")
    mode = body.choice("mode", MATCH_PERSON, MODES)
    top = body.integer("maxNumOfCandidatesReturned", 20, 1, 1000)
    targets = [name for name in FIND_SIMILAR_TARGETS if body.has(name)]
    if len(targets) != 1:
        raise BadArgument(f"Exactly one of {', '.join(FIND_SIMILAR_TARGETS)} is required.")
    if targets[0] != "faceIds":
        return galleries.find_similar_in_list(body, face_id, mode, top)
    candidates = body.uuid_list("faceIds", 1, MAX_CANDIDATE_FACES)
    return [{"faceId": similar.candidate_id, "confidence": round(similar.confidence, 5)}
            for similar in find_similar_faces(face_id, candidates, mode, top)]


@bp.route(route=face_route("group"), methods=["POST"])
@face_operation(Role.RECOGNIZER)
def group(call: Call) -> dict:
    body = call.json()
    return group_faces(body.uuid_list("faceIds", 2, MAX_GROUP_FACES)).as_json()

"""Stateless recognition over faceIds: POST /verify, /findsimilars, /group (face-api.md §5).

Gallery targets (verify against a person, find-similar in a face list) are the galleries
area's; the branches here serve the faceId-only variants.
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


@bp.route(route=face_route("verify"), methods=["POST"])
@face_operation(Role.RECOGNIZER)
def verify(call: Call) -> dict:
    body = call.json()
    if body.has("faceId1") or body.has("faceId2"):
        return verify_faces(body.uuid("faceId1"), body.uuid("faceId2")).as_json()
    if body.has("personId"):
        return galleries.verify_to_person(body)
    raise BadArgument("Request body is invalid: expected faceId1 and faceId2.")


@bp.route(route=face_route("findsimilars"), methods=["POST"])
@face_operation(Role.RECOGNIZER)
def find_similar(call: Call) -> list:
    body = call.json()
    face_id = body.uuid("faceId")
    mode = body.choice("mode", MATCH_PERSON, MODES)
    top = body.integer("maxNumOfCandidatesReturned", 20, 1, 1000)
    if body.has("faceListId") or body.has("largeFaceListId"):
        return galleries.find_similar_in_list(body, face_id, mode, top)
    if not body.has("faceIds"):
        raise BadArgument("Request body is invalid: expected faceIds.")
    candidates = body.uuid_list("faceIds", 1, MAX_CANDIDATE_FACES)
    return [{"faceId": similar.candidate_id, "confidence": round(similar.confidence, 5)}
            for similar in find_similar_faces(face_id, candidates, mode, top)]


@bp.route(route=face_route("group"), methods=["POST"])
@face_operation(Role.RECOGNIZER)
def group(call: Call) -> dict:
    body = call.json()
    return group_faces(body.uuid_list("faceIds", 2, MAX_GROUP_FACES)).as_json()

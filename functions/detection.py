"""POST /detect: faces in an image (bytes, URL or liveness session image), with optional faceIds,
landmarks, attributes."""
import azure.functions as func

from shared.api.auth import Role
from shared.api.detect_query import detect_request
from shared.api.faces_json import detection_json
from shared.api.handler import Call, face_operation, face_route
from shared.api.image_input import request_image
from shared.liveness.kinds import DETECT_FROM_SESSION_IMAGE_VERSIONS
from shared.liveness.sessions import detect_session_image
from shared.services.detect import detect as run_detect

bp = func.Blueprint()


@bp.route(route=face_route("detect"), methods=["POST"])
@face_operation(Role.RECOGNIZER)
def detect(call: Call) -> list:
    request = detect_request(call.query, call.version)
    from_session = detect_session_image if call.version.name in DETECT_FROM_SESSION_IMAGE_VERSIONS else None
    image = request_image(call.req.headers, call.req.get_body(), from_session)
    return [detection_json(result, request, call.version) for result in run_detect(image, request)]

"""GET /operations/{operationId}: the status of a long-running operation (face-api.md §10)."""
import azure.functions as func

from shared.api import versions
from shared.api.auth import Role
from shared.api.handler import Call, face_operation, face_route
from shared.api.params import parse_uuid
from shared.errors import FaceApiError
from shared.operations import http, store

bp = func.Blueprint()


@bp.route(route=face_route("operations/{operationId}"), methods=["GET"])
@face_operation(Role.ADMIN, api_versions=versions.names("operations_route"))
def get_operation(call: Call) -> func.HttpResponse:
    raw = call.route("operationId")
    try:
        operation_id = parse_uuid("operationId", raw)
    except FaceApiError:
        raise store.not_found(raw) from None
    return http.status_response(call, store.get(operation_id))

"""The data inventory (admin only, our own routes outside Azure's /face/ namespace):
what biometric data is held, per store and container; everything held about one personId
(a subject-access request); and erasing it everywhere in one call (docs/studio.md)."""
import azure.functions as func

from shared.api import render
from shared.api.auth import Role
from shared.api.handler import Call, face_operation
from shared.api.params import parse_uuid
from shared.errors import FaceApiError
from shared.galleries.repository import person_not_found
from shared.inventory import report

bp = func.Blueprint()
PERSON_ROUTE = "inventory/persons/{personId}"
NOT_CACHED = {"Cache-Control": "no-store"}  # names and ids of real people: no cache keeps a copy


def _person_id(call: Call) -> str:
    try:
        return parse_uuid("personId", call.route("personId"))
    except FaceApiError:
        raise person_not_found(call.route("personId")) from None


@bp.route(route="inventory", methods=["GET"])
@face_operation(Role.ADMIN, unversioned=True)
def get_inventory(call: Call) -> func.HttpResponse:
    return render.json_response(report.inventory(), headers=NOT_CACHED)


@bp.route(route=PERSON_ROUTE, methods=["GET"])
@face_operation(Role.ADMIN, unversioned=True)
def get_person_holdings(call: Call) -> func.HttpResponse:
    return render.json_response(report.person(_person_id(call)), headers=NOT_CACHED)


@bp.route(route=PERSON_ROUTE, methods=["DELETE"])
@face_operation(Role.ADMIN, unversioned=True)
def erase_person(call: Call) -> func.HttpResponse:
    return render.json_response(report.erase(_person_id(call)), headers=NOT_CACHED)

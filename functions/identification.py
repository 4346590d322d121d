"""Identify (face-api.md §5.2): query faces against a trained (Large)PersonGroup or the PersonDirectory."""
import azure.functions as func

from shared.api.auth import Role
from shared.api.handler import Call, face_operation, face_route
from shared.galleries import requests as galleries

bp = func.Blueprint()


@bp.route(route=face_route("identify"), methods=["POST"])
@face_operation(Role.RECOGNIZER)
def identify(call: Call) -> list:
    return galleries.identify(call.json(), call.version)

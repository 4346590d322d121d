"""Face Studio, the web console at /studio: its files (anonymous: they hold no secret), who the
presented credential is (so the console shows only what that role may do), and QR codes."""
import azure.functions as func

from shared.api.auth import Role
from shared.api.handler import Call, face_operation
from shared.studio import qr
from shared.studio.site import SITE

bp = func.Blueprint()


@bp.route(route="studio/{*asset}", methods=["GET"])
def studio_page(req: func.HttpRequest) -> func.HttpResponse:
    return SITE.response(req.route_params.get("asset") or "")


@bp.route(route="studio/me", methods=["GET"])
@face_operation(Role.RECOGNIZER, unversioned=True)
def studio_me(call: Call) -> dict:
    return {"role": call.caller.role.value}


@bp.route(route="studio/qr", methods=["POST"])
@face_operation(Role.RECOGNIZER, unversioned=True)
def studio_qr(call: Call) -> func.HttpResponse:
    return func.HttpResponse(qr.svg(call.json().get("text")), status_code=200,
                             headers={"Content-Type": "image/svg+xml", "Cache-Control": "no-store"})

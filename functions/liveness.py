"""Liveness sessions (face-api.md §11): the session API for app servers (admin or recognizer
key), the token-bound client route for devices, session images, the capture page, and
v1.3-preview.1's liveness settings (abuse monitoring) and client-assets access token."""
from collections.abc import Callable

import azure.functions as func

from shared.api import render
from shared.api.auth import Role, bearer_token
from shared.api.handler import Call, face_operation, face_route
from shared.api.versions import resource_not_found
from shared.errors import BadArgument, Unauthorized
from shared.galleries.validation import paging
from shared.liveness import attempts, client_assets, monitoring, page, page_assets, sessions, token
from shared.liveness import render as shapes
from shared.liveness.kinds import (
    CLIENT_VERSIONS,
    GA_VERSIONS,
    LIVENESS,
    PREVIEW_SESSION_IMAGE_VERSIONS,
    PREVIEW_VERSIONS,
    SETTINGS_VERSIONS,
    WITH_VERIFY,
    SessionKind,
)
from shared.liveness.requests import parse_liveness_create, parse_with_verify_create

bp = func.Blueprint()
OCTET_STREAM = "application/octet-stream"


def _add(path: str, method: str, name: str, versions: tuple[str, ...], operation: Callable[[Call], object],
         authorizer=None, role: Role = Role.RECOGNIZER) -> None:
    operation.__name__ = operation.__qualname__ = name
    role = None if authorizer else role
    bp.route(route=face_route(path), methods=[method])(face_operation(role, versions, authorizer)(operation))


def _create(call: Call, kind: SessionKind, preview: bool):
    parse = parse_with_verify_create if kind.with_verify else parse_liveness_create
    return sessions.create(kind, parse(call.req.headers, call.req.get_body(), preview,
                                       call.version.liveness_settings))


def _session_routes(kind: SessionKind) -> None:
    one = lambda base: f"{base}/{{sessionId}}"  # noqa: E731
    session = lambda call: sessions.get(kind, call.route("sessionId"))  # noqa: E731

    def ga_create(call: Call) -> dict:
        return shapes.ga_session(_create(call, kind, preview=False), [], call.version.liveness_settings)

    def ga_get(call: Call) -> dict:
        found = session(call)
        return shapes.ga_session(found, sessions.entries(found), call.version.liveness_settings)

    def ga_delete(call: Call) -> func.HttpResponse:
        sessions.delete(kind, call.route("sessionId"))
        return render.empty_response(204)

    def preview_create(call: Call) -> dict:
        created = _create(call, kind, preview=True)
        answer = {"sessionId": created.session_id, "authToken": token.mint(created)}
        if created.verify is not None:
            answer["verifyImage"] = {"faceRectangle": created.verify.rectangle.as_dict(),
                                     "qualityForRecognition": created.verify.quality}
        return answer

    def preview_list(call: Call) -> list:
        start, top = paging(call.query.text("start"), call.query.text("top"))
        return [shapes.preview_item(found) for found in sessions.listed(kind, start, top)]

    def preview_get(call: Call) -> dict:
        found = session(call)
        return shapes.preview_session(found, sessions.entries(found))

    def preview_delete(call: Call) -> None:
        sessions.delete(kind, call.route("sessionId"))

    def preview_audit(call: Call) -> list:
        found = session(call)
        start, top = paging(call.query.text("start"), call.query.text("top"))
        if start and not start.isdigit():
            raise BadArgument("Invalid start: an audit entry id is expected.")
        return [shapes.audit_entry(found, entry) for entry in sessions.entries(found, int(start or 0), top)]

    def client_info(call: Call) -> dict:
        return attempts.session_info(call, kind)

    def client_attempt(call: Call) -> func.HttpResponse:
        return attempts.attempt(call, kind)

    key = kind.key
    _add(kind.ga_path, "POST", f"create_{key}_session", GA_VERSIONS, ga_create)
    _add(one(kind.ga_path), "GET", f"get_{key}_session", GA_VERSIONS, ga_get)
    _add(one(kind.ga_path), "DELETE", f"delete_{key}_session", GA_VERSIONS, ga_delete)
    _add(kind.preview_path, "POST", f"create_{key}_session_preview", PREVIEW_VERSIONS, preview_create)
    _add(kind.preview_path, "GET", f"list_{key}_sessions_preview", PREVIEW_VERSIONS, preview_list)
    _add(one(kind.preview_path), "GET", f"get_{key}_session_preview", PREVIEW_VERSIONS, preview_get)
    _add(one(kind.preview_path), "DELETE", f"delete_{key}_session_preview", PREVIEW_VERSIONS, preview_delete)
    _add(one(kind.preview_path) + "/audit", "GET", f"audit_{key}_session_preview", PREVIEW_VERSIONS, preview_audit)
    _add(kind.client_path, "GET", f"{key}_client_info", CLIENT_VERSIONS, client_info, token.session_authorizer)
    _add(kind.client_path, "POST", f"{key}_client_attempt", CLIENT_VERSIONS, client_attempt, token.session_authorizer)


def _session_image(call: Call) -> func.HttpResponse:
    image = sessions.session_image(call.route("sessionImageId"))
    return func.HttpResponse(image, status_code=200, mimetype=OCTET_STREAM)


for session_kind in (LIVENESS, WITH_VERIFY):
    _session_routes(session_kind)
_add("sessionImages/{sessionImageId}", "GET", "get_session_image", GA_VERSIONS, _session_image)
_add("session/sessionImages/{sessionImageId}", "GET", "get_session_image_preview", PREVIEW_SESSION_IMAGE_VERSIONS,
     lambda call: _session_image(call))


def _get_settings(call: Call) -> dict:
    return monitoring.settings_json()


def _patch_settings(call: Call) -> dict:
    """Turn abuse monitoring on or off; turning it off deletes every abuse-monitoring template
    kept so far, at once (see shared.liveness.monitoring.update)."""
    monitoring.update(call.json())
    return monitoring.settings_json()


def _client_assets_token(call: Call) -> dict:
    minted = client_assets.mint()
    return {"accessToken": minted.token, "base64AccessToken": minted.base64_token,
            "expiry": minted.expiry.isoformat().replace("+00:00", "Z")}


_add("settings", "GET", "get_liveness_settings", SETTINGS_VERSIONS, _get_settings)
_add("settings", "PATCH", "patch_liveness_settings", SETTINGS_VERSIONS, _patch_settings, role=Role.ADMIN)
_add("settings/getClientAssetsAccessToken", "GET", "get_client_assets_access_token", SETTINGS_VERSIONS,
     _client_assets_token)


@bp.route(route="liveness/{*asset}", methods=["GET"])
def liveness_page(req: func.HttpRequest) -> func.HttpResponse:
    """The capture page and its two files (anonymous: it holds no secret; the token comes in
    the URL fragment, which never reaches a server)."""
    return page.SITE.response(req.route_params.get("asset") or "")


@bp.route(route="liveness/assets/{name}", methods=["GET"])
def liveness_client_asset(req: func.HttpRequest) -> func.HttpResponse:
    """The capture page's face detector and its runtime, for a client-assets access token
    (GET /settings/getClientAssetsAccessToken) sent as `Authorization: Bearer <token>`."""
    presented = bearer_token(req.headers)
    if not presented or not client_assets.valid(presented):
        refused = Unauthorized("Access denied due to an invalid or missing client assets access token.")
        return render.error_response(refused)
    found = page_assets.asset(req.route_params.get("name", ""))
    if found is None:
        return render.error_response(resource_not_found())
    content, content_type = found
    return func.HttpResponse(content, status_code=200, headers={**page_assets.HEADERS, "Content-Type": content_type})

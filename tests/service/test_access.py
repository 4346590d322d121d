"""Who may call what: keys, roles, EasyAuth principals; derived from the registered functions."""
from __future__ import annotations

import base64
import json
import re
import uuid

import pytest
import requests

from shared.api.auth import Role, identify_caller
from shared.api.handler import own_authorizer, required_role

UNAUTHORIZED = {"error": {"code": "401", "message": (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource.")}}
# Stateless operations the recognizer key may run. Anything else that is registered must
# require ADMIN; a new stateless route has to be added here on purpose.
RECOGNIZER_ROUTES = {
    "face/{apiVersion}/detect", "face/{apiVersion}/verify", "face/{apiVersion}/findsimilars",
    "face/{apiVersion}/group", "face/{apiVersion}/identify",
    # Liveness sessions: creating, reading and deleting them is using liveness, not enrolment.
    *(f"face/{{apiVersion}}/{path}" for base in ("detectLiveness-sessions", "detectLivenessWithVerify-sessions")
      for path in (base, base + "/{sessionId}")),
    *(f"face/{{apiVersion}}/{path}" for base in ("detectLiveness", "detectLivenessWithVerify")
      for path in (f"{base}/singleModal/sessions", f"{base}/singleModal/sessions/{{sessionId}}",
                   f"{base}/singleModal/sessions/{{sessionId}}/audit")),
    "face/{apiVersion}/sessionImages/{sessionImageId}", "face/{apiVersion}/session/sessionImages/{sessionImageId}",
    # The studio console: who the key is (to show only what it may do), QR codes for the liveness hand-off.
    "studio/me", "studio/qr",
    # v1.3-preview.1: reading the liveness settings and getting a client-assets token (PATCH
    # /settings, on the same route, requires ADMIN).
    "face/{apiVersion}/settings", "face/{apiVersion}/settings/getClientAssetsAccessToken",
}
# Routes whose own authorizer admits a liveness session token instead of a key.
TOKEN_ROUTES = {"face/{apiVersion}/detectLiveness/singleModal", "face/{apiVersion}/detectLivenessWithVerify/singleModal"}
UNVERSIONED_ROUTES = {"health", "{*path}", "liveness/{*asset}", "liveness/assets/{name}", "studio/{*asset}"}
# Our own routes outside Azure's namespace that still require a role (docs/studio.md).
SERVICE_ROUTE_PREFIXES = ("inventory", "studio/")


def _http_functions(service) -> list[tuple[str, str, set[str], object]]:
    """(name, route, methods, user function) of every HTTP-triggered function the host loaded
    (FunctionApp.get_functions() may only be called once per app, so ask the host)."""
    return [(f.name, f.trigger["route"], set(f.methods or ()), f.user_function)
            for f in service.host.functions.values() if f.kind == "httpTrigger"]


def _face_routes(service, role: Role) -> list[tuple[str, str, str, tuple]]:
    """(function name, method, concrete URL path, allowed versions) for every route requiring ``role``."""
    routes = []
    for name, route, methods, user_function in _http_functions(service):
        if required_role(user_function) is role:
            versions = getattr(user_function, "face_api_versions", None) or ("v1.2",)
            path = route.replace("{apiVersion}", sorted(versions)[-1])
            # Authorization comes before any validation, but use values valid as both
            # container ids ([a-z0-9-_]) and UUIDs anyway.
            path = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
            routes.extend((name, method, path, versions) for method in sorted(methods))
    return routes


def _call(service, method: str, path: str, key: str | None, headers: dict | None = None) -> requests.Response:
    sent = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        sent["Ocp-Apim-Subscription-Key"] = key
    return requests.request(method, f"{service.url}/{path}", headers=sent, data=b"{}", timeout=30)


def test_every_face_route_declares_a_role(service):
    for name, route, _, user_function in _http_functions(service):
        if route in UNVERSIONED_ROUTES:
            continue
        if route.startswith(SERVICE_ROUTE_PREFIXES):
            assert required_role(user_function) in (Role.ADMIN, Role.RECOGNIZER), name
            continue
        assert route.startswith("face/{apiVersion}/"), name
        if route in TOKEN_ROUTES:
            assert required_role(user_function) is None and own_authorizer(user_function) is not None, name
        else:
            assert required_role(user_function) in (Role.ADMIN, Role.RECOGNIZER), name


def test_only_stateless_operations_are_open_to_the_recognizer_key(service):
    recognizer = {route for _, route, _, fn in _http_functions(service) if required_role(fn) is Role.RECOGNIZER}
    assert {"face/{apiVersion}/detect", "face/{apiVersion}/verify"} <= recognizer
    assert recognizer <= RECOGNIZER_ROUTES, recognizer - RECOGNIZER_ROUTES


def test_recognizer_key_is_refused_on_every_write_route(service):
    """Covers routes added later automatically: the list comes from the app itself."""
    admin_routes = _face_routes(service, Role.ADMIN)
    assert admin_routes, "no write routes are registered, so this test would prove nothing"
    assert ("PATCH", "face/v1.3-preview.1/settings") in {(method, path) for _, method, path, _ in admin_routes}
    for name, method, path, _ in admin_routes:
        response = _call(service, method, path, service.recognizer_key)
        assert response.status_code == 403, (name, method, path, response.text)
        assert response.json()["error"]["code"] == "PermissionDenied"
        assert response.headers["x-ms-error-code"] == "PermissionDenied"


@pytest.mark.parametrize("key", [None, "", "wrong-key", "admin-"])
def test_missing_or_wrong_key_is_401_on_every_face_route(service, key):
    for role in (Role.ADMIN, Role.RECOGNIZER):
        for name, method, path, _ in _face_routes(service, role):
            response = _call(service, method, path, key)
            assert response.status_code == 401, (name, method, path)
            if method != "HEAD":
                assert response.json() == UNAUTHORIZED


def test_inventory_routes_are_admin_only(service):
    admin = {route for _, route, _, fn in _http_functions(service) if required_role(fn) is Role.ADMIN}
    assert {"inventory", "inventory/persons/{personId}"} <= admin


def test_admin_key_may_call_recognizer_routes(service):
    response = _call(service, "POST", "face/v1.2/group", service.admin_key)
    assert response.status_code == 400  # authorized; the empty body is the problem


def _principal(*roles: str) -> str:
    claims = [{"typ": "roles", "val": role} for role in roles] + [{"typ": "name", "val": "someone"}]
    return base64.b64encode(json.dumps({"auth_typ": "aad", "claims": claims}).encode()).decode()


def test_easyauth_principal_is_ignored_unless_trusted(service, monkeypatch):
    headers = {"X-MS-CLIENT-PRINCIPAL": _principal("Face.Admin")}
    assert _call(service, "POST", "face/v1.2/group", None, headers).status_code == 401
    monkeypatch.setenv("FACE_TRUST_EASYAUTH", "true")
    assert _call(service, "POST", "face/v1.2/group", None, headers).status_code == 400


def test_easyauth_roles_map_to_admin_and_recognizer(service, monkeypatch):
    monkeypatch.setenv("FACE_TRUST_EASYAUTH", "true")
    recognizer = {"X-MS-CLIENT-PRINCIPAL": _principal("Face.Recognizer")}
    stranger = {"X-MS-CLIENT-PRINCIPAL": _principal("Some.Other.Role")}
    garbage = {"X-MS-CLIENT-PRINCIPAL": "not base64!"}
    assert _call(service, "POST", "face/v1.2/verify", None, recognizer).status_code == 400
    for _, method, path, _ in _face_routes(service, Role.ADMIN):
        assert _call(service, method, path, None, recognizer).status_code == 403
    assert _call(service, "POST", "face/v1.2/verify", None, stranger).status_code == 401
    assert _call(service, "POST", "face/v1.2/verify", None, garbage).status_code == 401


def test_health_is_anonymous(service):
    response = requests.get(f"{service.url}/health", timeout=60)
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_callers_are_named_by_credential_never_by_secret(service, monkeypatch):
    monkeypatch.setenv("FACE_TRUST_EASYAUTH", "true")
    admin = identify_caller({"Ocp-Apim-Subscription-Key": service.admin_key})
    recognizer = identify_caller({"Ocp-Apim-Subscription-Key": service.recognizer_key})
    assert admin.role is Role.ADMIN and recognizer.role is Role.RECOGNIZER
    assert admin.credential.startswith("key:") and admin.credential != recognizer.credential
    assert service.admin_key not in admin.credential
    oid = str(uuid.uuid4())
    claims = [{"typ": "roles", "val": "Face.Recognizer"},
              {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": oid}]
    principal = base64.b64encode(json.dumps({"auth_typ": "aad", "claims": claims}).encode()).decode()
    entra = identify_caller({"X-MS-CLIENT-PRINCIPAL": principal})
    assert entra.credential == f"entra:{oid}" and entra.roles == frozenset({Role.RECOGNIZER})
    assert identify_caller({"Ocp-Apim-Subscription-Key": "wrong"}) is None

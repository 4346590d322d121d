"""Every route with every kind of credential, and no secret in the app's logs.

The credentials come from one list (``credentials``): each says what it may call and how it
is refused otherwise. A new kind of credential (a liveness session token) is one more line
there; the route sweep and the log scan then cover it.
"""
from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import requests

from reliability_support import AppProcess
from shared.api.auth import KEY_HEADER, Role
from shared.api.handler import own_authorizer, required_role


@dataclass(frozen=True)
class Credential:
    name: str
    headers: dict[str, str]
    allows: Callable[[Role | None, str], bool]  # (the route's required role or None, its template) -> may call it
    refused_with: int  # the status when it may not: 401 proves nobody, 403 proves someone else

    def secrets(self) -> list[str]:
        return [value for value in self.headers.values() if len(value) >= 8]


def _holds(*roles: Role) -> Callable[[Role | None, str], bool]:
    return lambda required, route: required is not None and (Role.ADMIN in roles or required in roles)


def _session_token(app: AppProcess) -> str:
    """The authToken of a fresh liveness session, as an app server hands it to a device."""
    response = requests.post(f"{app.url}/face/v1.2/detectLiveness-sessions", headers=app.headers(),
                             json={"livenessOperationMode": "Passive", "deviceCorrelationId": str(uuid.uuid4())},
                             timeout=60)
    response.raise_for_status()
    return response.json()["authToken"]


def credentials(app: AppProcess) -> list[Credential]:
    admin, recognizer = app.env["FACE_ADMIN_KEYS"], app.env["FACE_RECOGNIZER_KEYS"]
    nobody = _holds()
    return [
        Credential("no credential", {}, nobody, 401),
        Credential("empty key", {KEY_HEADER: ""}, nobody, 401),
        Credential("wrong key", {KEY_HEADER: "wrong-" + secrets.token_hex(12)}, nobody, 401),
        Credential("admin key with one character changed", {KEY_HEADER: admin[:-1] + ("0" if admin[-1] != "0" else "1")},
                   nobody, 401),
        Credential("admin key with a prefix", {KEY_HEADER: "x" + admin}, nobody, 401),
        Credential("recognizer key", {KEY_HEADER: recognizer}, _holds(Role.RECOGNIZER), 403),
        Credential("admin key", {KEY_HEADER: admin}, _holds(Role.ADMIN), 403),
        # Only its own session's client route: detectLiveness, not detectLivenessWithVerify.
        Credential("liveness session token", {"Authorization": "Bearer " + _session_token(app)},
                   lambda required, route: route.endswith("/detectLiveness/singleModal"), 401),
    ]


def _routes(service) -> list[tuple[str, str, Role | None, str]]:
    """(method, concrete path, required role, route template) of every Face route the app
    registered; the role is None where the route admits its callers itself (a session token)."""
    routes = []
    for function in service.host.functions.values():
        role = required_role(function.user_function)
        if function.kind != "httpTrigger" or (role is None and own_authorizer(function.user_function) is None):
            continue
        versions = getattr(function.user_function, "face_api_versions", None) or ("v1.2",)
        template = function.trigger["route"]
        path = template.replace("{apiVersion}", sorted(versions)[-1])
        path = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)  # valid as container ids and UUIDs
        routes += [(method, path, role, template) for method in sorted(function.methods or ())]
    return routes


def test_every_route_with_every_credential(app, service):
    routes = _routes(service)
    assert {role for *_, role, _ in routes} == {Role.ADMIN, Role.RECOGNIZER, None}
    wrong = []
    for credential in credentials(app):
        for method, path, role, template in routes:
            headers = {"Content-Type": "application/json", **credential.headers}
            response = requests.request(method, f"{app.url}/{path}", headers=headers, data=b"{}", timeout=60)
            allowed = credential.allows(role, template)
            refused_with = 401 if role is None else credential.refused_with  # a token route knows no roles
            if (response.status_code in (401, 403)) == allowed or \
                    (not allowed and response.status_code != refused_with):
                wrong.append(f"{credential.name}: {method} {template} -> {response.status_code}")
            elif response.status_code >= 500:
                wrong.append(f"{credential.name}: {method} {template} -> {response.status_code}")
    assert wrong == []


@pytest.mark.privacy_scan  # runs last: after every test that sent this app keys, faults and hostile input
def test_no_key_or_token_appears_in_the_app_logs(app, service):
    """Whatever the app logged (request lines, storage outage warnings, tracebacks) across
    every reliability test that used it, restarts included."""
    log = app.logs()
    assert "POST /face/" in log or "GET /face/" in log, "the app logged no request: the scan would prove nothing"
    for credential in credentials(app):
        for secret in credential.secrets():
            assert secret not in log, f"{credential.name} appears in the app's log"

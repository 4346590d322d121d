"""Conformance of v1.3-preview.1 with face-v1.3-preview.1.json: every route of the document
is served under v1.3-preview.1; schemathesis generates valid and invalid requests for the
liveness and settings operations (the ones that differ from v1.2; the rest run v1.2's code,
which tests/service/test_conformance.py covers) and every answer must be a non-5xx that matches
the document; a second test checks the 200 shapes with real sessions, attempts and settings.

The document types several booleans and integers as `object` (SOURCE.md); those are given
their evident types here (booleans, and the 1..3 attempt count), as its examples use them.
"""
from __future__ import annotations

import json
import uuid
from collections import Counter

import requests
import schemathesis

from live_support import SHARED_DIR, V1_3
import test_conformance_liveness as v1_2

SPEC = SHARED_DIR / "reference" / "openapi" / "face-v1.3-preview.1.json"
PATHS = ("/detectLiveness-sessions", "/detectLiveness-sessions/{sessionId}", "/detectLivenessWithVerify-sessions",
         "/detectLivenessWithVerify-sessions/{sessionId}", "/sessionImages/{sessionImageId}", "/settings",
         "/settings/getClientAssetsAccessToken")
# (definition, property) -> the type the document meant.
MISTYPED = {("CreateLivenessSessionContent", "numberOfClientAttemptsAllowed"):
            {"type": "integer", "format": "int32", "minimum": 1, "maximum": 3},
            ("LivenessSession", "isAbuseMonitoringEnabled"): {"type": "boolean"},
            ("LivenessWithVerifySession", "isAbuseMonitoringEnabled"): {"type": "boolean"},
            ("AbuseMonitoringResult", "isAbuseDetected"): {"type": "boolean"},
            ("LivenessAbuseMonitoringSetting", "enabled"): {"type": "boolean"},
            ("LivenessAbuseMonitoringSettingUpdate", "enabled"): {"type": "boolean"}}


def _document() -> dict:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    for (definition, name), typed in MISTYPED.items():
        field = spec["definitions"][definition]["properties"][name]
        assert field["type"] == "object", (definition, name)  # still the upstream quirk
        spec["definitions"][definition]["properties"][name] = {**typed, "description": field["description"]}
    return spec


def _operations() -> dict:
    spec = _document()
    paths = {path: item for path, item in spec["paths"].items() if path in PATHS}
    paths["/detect"] = spec["x-ms-paths"][v1_2.SESSION_IMAGE_DETECT]
    spec["paths"] = paths
    spec.pop("x-ms-paths")
    schema = schemathesis.openapi.from_dict(spec)
    return {(op.method.upper(), op.path): op for op in (result.ok() for result in schema.get_all_operations())}


def _admin(service) -> dict:
    # Admin: PATCH /settings is generated too (a recognizer would only ever get 403).
    return {"Ocp-Apim-Subscription-Key": service.admin_key}


def _restore_monitoring(service) -> None:
    answer = requests.patch(f"{service.url}/face/{V1_3}/settings", json={"livenessAbuseMonitoring": {"enabled": True}},
                            headers=_admin(service), timeout=60)
    assert answer.status_code == 200


def test_every_route_of_the_document_is_served(service):
    spec = _document()
    served = Counter()
    for path, item in spec["paths"].items():
        concrete = path
        for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
            concrete = concrete.replace(f"{{{name}}}", str(uuid.uuid4()))
        for method in item:
            if method == "parameters":
                continue
            answer = requests.request(method.upper(), f"{service.url}/face/{V1_3}{concrete}", headers=_admin(service),
                                      json={}, timeout=60)
            assert answer.status_code < 500, (method, path, answer.text)
            unknown_route = answer.status_code == 404 and answer.json()["error"] == {"code": "404",
                                                                                     "message": "Resource not found"}
            assert not unknown_route, (method, path)
            served[method] += 1
    _restore_monitoring(service)
    assert sum(served.values()) >= 60, served


def test_generated_v1_3_liveness_and_settings_requests_conform(service):
    operations = _operations()
    assert len(operations) == 11, sorted(operations)
    try:
        statuses = v1_2.generate(operations, f"{service.url}/face/{V1_3}", _admin(service))
    finally:
        _restore_monitoring(service)
    assert sum(statuses.values()) >= 300, statuses
    assert not [key for key in statuses if key[2] >= 500], statuses
    # Generated creates rarely pass (a random expectedClientIpAddress is no address): the 200
    # shapes of sessions are checked with real ones below.
    for path in ("/settings", "/settings/getClientAssetsAccessToken"):
        assert any(key[2] == 200 for key in statuses if key[1] == path), (path, statuses)


def test_successful_v1_3_responses_match_the_document(service, api, live_frame, privacy_probe):
    call = v1_2.document_caller(_operations(), f"{service.url}/face/{V1_3}", _admin(service))
    assert call("GET", "/settings").json() == {"livenessAbuseMonitoring": {"enabled": True}}
    assert call("PATCH", "/settings", body={"livenessAbuseMonitoring": {"enabled": True}}).json()[
        "livenessAbuseMonitoring"]["enabled"] is True
    call("GET", "/settings/getClientAssetsAccessToken")
    created = call("POST", "/detectLiveness-sessions", body={
        "livenessOperationMode": "Passive", "deviceCorrelationId": "device-13", "enableSessionImage": True,
        "userCorrelationId": "user-13", "expectedClientIpAddress": "127.0.0.0/8",
        "numberOfClientAttemptsAllowed": 2}).json()
    assert created["isAbuseMonitoringEnabled"] is True
    api.attempt(created["authToken"], [live_frame])
    read = call("GET", "/detectLiveness-sessions/{sessionId}", path_parameters={"sessionId": created["sessionId"]})
    (attempt,) = read.json()["results"]["attempts"]
    assert attempt["clientInformation"] == [{"ip": "127.0.0.1"}] and "abuseMonitoringResult" in attempt
    image_id = attempt["result"]["sessionImageId"]
    call("GET", "/sessionImages/{sessionImageId}", path_parameters={"sessionImageId": image_id})
    call("POST", "/detect", body={"sessionImageId": image_id}, query={"returnFaceId": "false"})

    v1_2.check_with_verify_then_delete(call, api, live_frame, privacy_probe, created["sessionId"], {
        "livenessOperationMode": "Passive", "deviceCorrelationId": "device-14", "numberOfClientAttemptsAllowed": 3})

"""Conformance of the v1.2 liveness routes with face-v1.2.json (as tests/service/
test_conformance.py does for detect and recognition): schemathesis generates valid and invalid
requests for every liveness operation; no answer is a 5xx and every answer matches the
document. A second test checks the 200/204 shapes with real sessions, attempts and images."""
from __future__ import annotations

import json
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from live_support import GA, PERSONS_DIR, SHARED_DIR

SPEC = SHARED_DIR / "reference" / "openapi" / "face-v1.2.json"
PATHS = ("/detectLiveness-sessions", "/detectLiveness-sessions/{sessionId}", "/detectLivenessWithVerify-sessions",
         "/detectLivenessWithVerify-sessions/{sessionId}", "/sessionImages/{sessionImageId}")
SESSION_IMAGE_DETECT = "/detect?_overload=detectFromSessionImageId"
EXAMPLES = {GenerationMode.POSITIVE: 30, GenerationMode.NEGATIVE: 15}  # per operation
# Operations whose only input is a free-form string path parameter: nothing about them can
# be made invalid, so schemathesis has no negative cases for them.
NO_NEGATIVE_CASES = {"GET", "DELETE"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


def _schema():
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    paths = {path: item for path, item in spec["paths"].items() if path in PATHS}
    paths["/detect"] = spec["x-ms-paths"][SESSION_IMAGE_DETECT]
    spec["paths"] = paths
    spec.pop("x-ms-paths")
    return schemathesis.openapi.from_dict(spec)


def _operations() -> dict:
    return {(op.method.upper(), op.path): op for op in (result.ok() for result in _schema().get_all_operations())}


def generate(operations: dict, base_url: str, headers: dict) -> Counter:
    """schemathesis's valid and invalid requests for each operation, every answer checked
    against the document; returns how often each (method, path, status) came back."""
    statuses: Counter = Counter()
    for operation in operations.values():
        for mode, examples in EXAMPLES.items():
            if mode is GenerationMode.NEGATIVE and operation.method.upper() in NO_NEGATIVE_CASES:
                continue

            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def exercise(case):
                response = case.call(base_url=base_url, headers=headers, timeout=60)
                statuses[(operation.method, operation.path, response.status_code)] += 1
                checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS
                case.validate_response(response, checks=checks)

            exercise()
    return statuses


def document_caller(operations: dict, base_url: str, headers: dict):
    """call(method, path, expected status, **case): one request, its answer checked against the document."""
    def call(method, path, expected=200, **case):
        response = operations[(method, path)].Case(**case).call(base_url=base_url, headers=headers, timeout=60)
        assert response.status_code == expected, response.text
        # A 204 has no content, hence no content type to conform.
        checks = [check for check in CHECKS if expected != 204 or check is not content_type_conformance]
        operations[(method, path)].Case(**case).validate_response(response, checks=checks)
        return response

    return call


def test_generated_liveness_requests_conform(service):
    operations = _operations()
    assert len(operations) == 8, sorted(operations)
    statuses = generate(operations, f"{service.url}/face/{GA}", {"Ocp-Apim-Subscription-Key": service.recognizer_key})
    assert sum(statuses.values()) >= 250, statuses
    assert not [key for key in statuses if key[2] >= 500], statuses
    assert any(key[2] == 200 for key in statuses if key[1] == "/detectLiveness-sessions"), statuses


def test_successful_liveness_responses_match_the_document(service, api, live_frame, privacy_probe):
    call = document_caller(_operations(), f"{service.url}/face/{GA}",
                           {"Ocp-Apim-Subscription-Key": service.recognizer_key})
    created = call("POST", "/detectLiveness-sessions", body={
        "livenessOperationMode": "Passive", "deviceCorrelationId": "device-1", "enableSessionImage": True}).json()
    api.attempt(created["authToken"], [live_frame])
    read = call("GET", "/detectLiveness-sessions/{sessionId}", path_parameters={"sessionId": created["sessionId"]})
    image_id = read.json()["results"]["attempts"][0]["result"]["sessionImageId"]
    image = call("GET", "/sessionImages/{sessionImageId}", path_parameters={"sessionImageId": image_id})
    assert image.content == live_frame
    call("POST", "/detect", body={"sessionImageId": image_id}, query={"returnFaceId": "false"})

    check_with_verify_then_delete(call, api, live_frame, privacy_probe, created["sessionId"], {
        "livenessOperationMode": "PassiveActive", "deviceCorrelationId": "device-2", "returnVerifyImageHash": True})


def check_with_verify_then_delete(call, api, live_frame: bytes, privacy_probe, liveness_session_id: str,
                                  fields: dict) -> None:
    """A with-verify session created with ``fields``, one attempt, read; then both sessions
    deleted (204) and gone (404), every answer checked against the document."""
    verify_image = privacy_probe.saw_image(sorted((PERSONS_DIR / "obama").glob("*.jpg"))[0].read_bytes(),
                                           "detection_03", "recognition_04")
    with_verify = call("POST", "/detectLivenessWithVerify-sessions", media_type="multipart/form-data",
                       body={**fields, "verifyImage": verify_image}).json()
    api.attempt(with_verify["authToken"], [live_frame], verify=True)
    call("GET", "/detectLivenessWithVerify-sessions/{sessionId}", path_parameters={"sessionId": with_verify["sessionId"]})
    for path, session_id in (("/detectLiveness-sessions/{sessionId}", liveness_session_id),
                             ("/detectLivenessWithVerify-sessions/{sessionId}", with_verify["sessionId"])):
        call("DELETE", path, 204, path_parameters={"sessionId": session_id})
        call("GET", path, 404, path_parameters={"sessionId": session_id})

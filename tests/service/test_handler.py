"""The @face_operation wrapper: versions, rendering, and errors that are not the caller's."""
from __future__ import annotations

import inspect
import json

import azure.functions as func
import pytest

from shared.api.auth import Role
from shared.api.handler import Call, face_operation, required_role
from shared.errors import NotFound, ServiceUnavailable, TooManyRequests

KEY = "unit-admin-key"


@pytest.fixture(autouse=True)
def admin_key(monkeypatch):
    monkeypatch.setenv("FACE_ADMIN_KEYS", KEY)


def _request(version: str = "v1.2") -> func.HttpRequest:
    return func.HttpRequest("POST", f"http://host/face/{version}/x", headers={"Ocp-Apim-Subscription-Key": KEY},
                            route_params={"apiVersion": version}, body=b"")


def test_a_bug_becomes_a_logged_500_envelope_with_the_request_id(caplog):
    @face_operation(Role.ADMIN)
    def broken(call: Call) -> dict:
        raise RuntimeError("secret internal detail")

    response = broken(_request())
    body = json.loads(response.get_body())
    request_id = response.headers["apim-request-id"]
    assert response.status_code == 500
    assert body["error"]["code"] == "InternalServerError" == response.headers["x-ms-error-code"]
    assert request_id in body["error"]["message"]
    assert "secret internal detail" not in body["error"]["message"]
    assert "secret internal detail" in caplog.text and request_id in caplog.text


def test_results_render_as_json_empty_200_or_pass_through():
    @face_operation(Role.ADMIN)
    def data(call: Call) -> dict:
        return {"version": call.version.name}

    @face_operation(Role.ADMIN)
    def nothing(call: Call) -> None:
        return None

    @face_operation(Role.ADMIN)
    def accepted(call: Call) -> func.HttpResponse:
        return func.HttpResponse(status_code=202, headers={"operation-Location": "/x"})

    assert json.loads(data(_request("V1.0")).get_body()) == {"version": "v1.0"}
    empty = nothing(_request())
    assert empty.status_code == 200 and empty.get_body() == b""
    passed = accepted(_request())
    assert passed.status_code == 202 and passed.headers["operation-Location"] == "/x"
    assert "apim-request-id" in passed.headers


def test_routes_offered_in_some_versions_only_are_404_elsewhere():
    @face_operation(Role.ADMIN, api_versions=("v1.2",))
    def ga_only(call: Call) -> dict:
        return {}

    assert ga_only(_request("v1.2")).status_code == 200
    response = ga_only(_request("v1.2-preview.1"))
    assert response.status_code == 404 and json.loads(response.get_body())["error"]["code"] == "404"


def test_face_api_errors_keep_their_status_and_code():
    @face_operation(Role.ADMIN)
    def missing(call: Call) -> dict:
        raise NotFound("Person group is not found.", code="PersonGroupNotFound")

    response = missing(_request())
    assert response.status_code == 404
    assert response.headers["x-ms-error-code"] == "PersonGroupNotFound"


@pytest.mark.parametrize("error, status, code", [
    (TooManyRequests("Rate limit is exceeded.", retry_after=0.2), 429, "429"),
    (ServiceUnavailable("Storage is not answering.", retry_after=4.5), 503, "ServiceUnavailable"),
])
def test_retryable_errors_tell_when_to_retry(error, status, code):
    @face_operation(Role.ADMIN)
    def busy(call: Call) -> dict:
        raise error

    response = busy(_request())
    assert response.status_code == status and json.loads(response.get_body())["error"]["code"] == code
    assert response.headers["Retry-After"] == {429: "1", 503: "5"}[status]


def test_the_worker_sees_a_plain_http_function():
    @face_operation(Role.RECOGNIZER)
    def detect(call: Call) -> list:
        """Docs survive."""
        return []

    assert list(inspect.signature(detect).parameters) == ["req"]
    assert detect.__name__ == "detect" and detect.__doc__ == "Docs survive."
    assert required_role(detect) is Role.RECOGNIZER

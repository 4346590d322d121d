"""The session API of v1.2 and the previews, over plain HTTP: shapes, status codes, validation."""
from __future__ import annotations

import uuid

import pytest

from live_support import GA, PREVIEW


def test_ga_create_get_delete_with_a_passive_attempt(api, live_frame):
    created = api.create(enableSessionImage=False)
    assert created.status_code == 200, created.text
    session = created.json()
    assert session["status"] == "NotStarted" and session["results"] == {"attempts": []}
    assert session["modelVersion"] == "2024-11-15" and session["authToken"]

    answer = api.attempt(session["authToken"], [live_frame])
    assert answer.status_code == 200, answer.text
    outcome = answer.json()
    assert outcome["attemptId"] == 1 and outcome["attemptStatus"] == "Succeeded"
    assert "livenessDecision" not in outcome  # sendResultsToClient was not set
    assert outcome["digest"] == answer.headers["X-Liveness-Digest"]

    read = api.session(f"detectLiveness-sessions/{session['sessionId']}").json()
    (attempt,) = read["results"]["attempts"]
    assert read["status"] == "Succeeded"
    assert attempt["attemptStatus"] == "Succeeded" and attempt["result"]["livenessDecision"] == "realface"
    assert attempt["result"]["digest"] == outcome["digest"]
    assert attempt["result"]["targets"]["color"]["faceRectangle"]["width"] > 80

    deleted = api.session(f"detectLiveness-sessions/{session['sessionId']}", "DELETE")
    assert deleted.status_code == 204
    gone = api.session(f"detectLiveness-sessions/{session['sessionId']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "SessionNotFound"


def test_preview_list_get_audit_and_delete(api, spoof_frames):
    created = api.create(PREVIEW, sendResultsToClient=True, livenessSingleModalModel="2022-10-15-preview.04")
    assert created.status_code == 200, created.text
    assert set(created.json()) == {"sessionId", "authToken"}
    session_id, token = created.json()["sessionId"], created.json()["authToken"]
    path = f"detectLiveness/singleModal/sessions/{session_id}"
    assert api.session(path, version=PREVIEW).json()["status"] == "NotStarted"

    answer = api.attempt(token, [spoof_frames[1]], version=PREVIEW)
    assert answer.json()["livenessDecision"] == "spoofface"  # sendResultsToClient
    read = api.session(path, version=PREVIEW).json()
    assert read["status"] == "ResultAvailable" and read["sessionExpired"] is False
    assert read["result"]["response"]["body"]["livenessDecision"] == "spoofface"
    assert read["result"]["response"]["body"]["modelVersionUsed"] == "2022-10-15-preview.04"
    (entry,) = api.session(path + "/audit", version=PREVIEW).json()
    assert entry["id"] == 1 and entry["digest"] == answer.json()["digest"]
    assert entry["request"]["method"] == "POST" and "Bearer" not in str(entry)

    listed = api.session("detectLiveness/singleModal/sessions", version=PREVIEW, top=1000).json()
    assert session_id in [item["id"] for item in listed]
    assert [item["id"] for item in listed] == sorted(item["id"] for item in listed)
    after = api.session("detectLiveness/singleModal/sessions", version=PREVIEW, start=session_id).json()
    assert all(item["id"] > session_id for item in after)

    assert api.session(path, "DELETE", version=PREVIEW).status_code == 200
    assert api.session(path, version=PREVIEW).status_code == 404
    assert api.session(path + "/audit", version=PREVIEW).status_code == 404


@pytest.mark.parametrize("fields, message", [
    ({"livenessOperationMode": None}, "livenessOperationMode"),
    ({"livenessOperationMode": "Blink"}, "livenessOperationMode"),
    ({"deviceCorrelationId": None}, "deviceCorrelationId"),
    ({"deviceCorrelationIdSetInClient": True}, "deviceCorrelationId"),
    ({"authTokenTimeToLiveInSeconds": 59}, "authTokenTimeToLiveInSeconds"),
    ({"authTokenTimeToLiveInSeconds": 86401}, "authTokenTimeToLiveInSeconds"),
    ({"livenessModelVersion": "2099-01-01"}, "livenessModelVersion"),
    ({"enableSessionImage": "yes"}, "enableSessionImage"),
])
def test_create_refuses_invalid_fields(api, fields, message):
    answer = api.create(**fields)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "BadArgument" and message in answer.json()["error"]["message"]


def test_unknown_and_malformed_session_ids_are_404(api):
    for session_id in (str(uuid.uuid4()), "not-a-guid"):
        answer = api.session(f"detectLiveness-sessions/{session_id}")
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "SessionNotFound"


def test_a_session_is_found_only_under_its_own_kind(api):
    session_id = api.create().json()["sessionId"]
    assert api.session(f"detectLivenessWithVerify-sessions/{session_id}").status_code == 404
    assert api.session(f"detectLiveness-sessions/{session_id}").status_code == 200


def test_routes_exist_only_in_their_versions(api):
    assert api.create(version="v1.0").status_code == 404
    assert api.session("detectLiveness-sessions/x", version=PREVIEW).status_code == 404
    assert api.session("detectLiveness/singleModal/sessions", version=GA).status_code == 404

"""v1.3-preview.1 over raw HTTP (no client speaks it yet): /settings, the client-assets token,
the new session fields, and the client route's expectedClientIpAddress and attempt count."""
from __future__ import annotations

import base64
import uuid
from datetime import datetime, timezone

import pytest
import requests

from live_support import GA, PERSONS_DIR, V1_3
from shared.liveness import client_assets

SETTINGS = f"face/{V1_3}/settings"


def _call(service, method: str, path: str, key: str, body: dict | None = None) -> requests.Response:
    return requests.request(method, f"{service.url}/{path}", json=body, timeout=60,
                            headers={"Ocp-Apim-Subscription-Key": key})


@pytest.fixture(scope="module", autouse=True)
def observed_frame(live_frame, privacy_probe):
    """The attempts here are abuse-monitored: their observations hold recognition_04
    templates of the live frame, which the storage privacy scan must look for."""
    privacy_probe.saw_image(live_frame, "detection_03", "recognition_04")


@pytest.fixture
def monitoring_restored(service):
    yield
    assert _call(service, "PATCH", SETTINGS, service.admin_key,
                 {"livenessAbuseMonitoring": {"enabled": True}}).status_code == 200


def test_settings_read_by_recognizer_changed_by_admin_only(service, monitoring_restored):
    assert _call(service, "GET", SETTINGS, service.recognizer_key).json() == {"livenessAbuseMonitoring": {"enabled": True}}
    refused = _call(service, "PATCH", SETTINGS, service.recognizer_key, {"livenessAbuseMonitoring": {"enabled": False}})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "PermissionDenied"
    # The schema's shape, answered in the schema's shape.
    off = _call(service, "PATCH", SETTINGS, service.admin_key, {"livenessAbuseMonitoring": {"enabled": False}})
    assert off.status_code == 200 and off.json() == {"livenessAbuseMonitoring": {"enabled": False}}
    assert _call(service, "GET", SETTINGS, service.recognizer_key).json() == {"livenessAbuseMonitoring": {"enabled": False}}
    # The upstream example's flat shape is accepted too; the answer is still the schema's.
    on = _call(service, "PATCH", SETTINGS, service.admin_key, {"enabled": True})
    assert on.json() == {"livenessAbuseMonitoring": {"enabled": True}}
    assert _call(service, "PATCH", SETTINGS, service.admin_key, {}).json() == {"livenessAbuseMonitoring": {"enabled": True}}


@pytest.mark.parametrize("body", [{"enabled": "no"}, {"livenessAbuseMonitoring": {"enabled": 0}},
                                  {"livenessAbuseMonitoring": True}])
def test_settings_refuse_what_is_not_a_boolean(service, body):
    answer = _call(service, "PATCH", SETTINGS, service.admin_key, body)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "BadArgument"
    assert _call(service, "GET", SETTINGS, service.recognizer_key).json() == {"livenessAbuseMonitoring": {"enabled": True}}


def test_settings_exist_only_in_v1_3(service):
    for path in ("settings", "settings/getClientAssetsAccessToken"):
        assert _call(service, "GET", f"face/{GA}/{path}", service.admin_key).status_code == 404


def test_client_assets_token(service):
    for key in (service.recognizer_key, service.admin_key):
        answer = _call(service, "GET", f"face/{V1_3}/settings/getClientAssetsAccessToken", key)
        assert answer.status_code == 200
        body = answer.json()
        assert set(body) == {"accessToken", "base64AccessToken", "expiry"}
        assert base64.b64decode(body["base64AccessToken"]).decode() == body["accessToken"]
        assert client_assets.valid(body["accessToken"]) and client_assets.valid(body["base64AccessToken"])
        assert datetime.fromisoformat(body["expiry"].replace("Z", "+00:00")) > datetime.now(timezone.utc)
    assert _call(service, "GET", f"face/{V1_3}/settings/getClientAssetsAccessToken", "wrong").status_code == 401


def test_v1_3_sessions_answer_the_new_fields_and_v1_2_does_not(api):
    created = api.create(V1_3, expectedClientIpAddress="127.0.0.1", userCorrelationId="user-1").json()
    assert created["isAbuseMonitoringEnabled"] is True and created["expectedClientIpAddress"] == "127.0.0.1"
    as_v1_2 = api.session(f"detectLiveness-sessions/{created['sessionId']}").json()
    assert "isAbuseMonitoringEnabled" not in as_v1_2 and "expectedClientIpAddress" not in as_v1_2
    older = api.create(GA).json()
    read = api.session(f"detectLiveness-sessions/{older['sessionId']}", version=V1_3).json()
    assert read["isAbuseMonitoringEnabled"] is False  # created under v1.2: never monitored


@pytest.mark.parametrize("fields", [
    {"numberOfClientAttemptsAllowed": 0}, {"numberOfClientAttemptsAllowed": 4}, {"numberOfClientAttemptsAllowed": "2"},
    {"expectedClientIpAddress": "not-an-address"}, {"expectedClientIpAddress": "10.0.0.1/33"},
    {"expectedClientIpAddress": "10.0.0.1/24"},  # host bits set: not a CIDR block
    {"userCorrelationId": "u", "userCorrelationIdSetInClient": True}, {"userCorrelationId": ""},
])
def test_new_fields_are_validated(api, fields):
    answer = api.create(V1_3, **fields)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "BadArgument"


def test_attempts_allowed_default_to_one_and_go_up_to_three(api, live_frame):
    one = api.create(V1_3).json()
    assert api.attempt(one["authToken"], [live_frame]).json()["attemptsRemaining"] == 0
    assert api.attempt(one["authToken"], [live_frame]).status_code == 401
    three = api.create(V1_3, numberOfClientAttemptsAllowed=3).json()
    assert api.client_info(three["authToken"]).json()["attemptsRemaining"] == 3
    for remaining in (2, 1, 0):
        assert api.attempt(three["authToken"], [live_frame]).json()["attemptsRemaining"] == remaining
    assert api.attempt(three["authToken"], [live_frame]).status_code == 401
    # v1.2 keeps its three attempts and ignores the v1.3 field.
    older = api.create(GA, numberOfClientAttemptsAllowed=1).json()
    assert api.client_info(older["authToken"]).json()["attemptsRemaining"] == 3


def test_with_verify_multipart_create_takes_the_attempt_count(api, privacy_probe, live_frame):
    verify_image = privacy_probe.saw_image(sorted((PERSONS_DIR / "obama").glob("*.jpg"))[0].read_bytes(),
                                           "detection_03", "recognition_04")
    created = api.create_with_verify(verify_image, V1_3, numberOfClientAttemptsAllowed=2,
                                     userCorrelationIdSetInClient=True)
    assert created.status_code == 200, created.text
    session = created.json()
    assert api.client_info(session["authToken"], verify=True).json()["attemptsRemaining"] == 2
    missing = api.attempt(session["authToken"], [live_frame], verify=True)
    assert missing.status_code == 400 and "userCorrelationId" in missing.json()["error"]["message"]
    done = api.attempt(session["authToken"], [live_frame], {"userCorrelationId": "user-9"}, verify=True)
    assert done.status_code == 200 and done.json()["attemptsRemaining"] == 1
    read = api.session(f"detectLivenessWithVerify-sessions/{session['sessionId']}", version=V1_3).json()
    verified = [a for a in read["results"]["attempts"] if a["attemptStatus"] == "Succeeded"]
    assert verified[0]["result"]["verifyResult"]["isIdentical"] is False  # obama vs the live sample
    assert "abuseMonitoringResult" in verified[0]  # monitored like any attempt
    assert api.create_with_verify(verify_image, V1_3, numberOfClientAttemptsAllowed=5).status_code == 400


def _attempts(api, session: dict) -> list[dict]:
    return api.session(f"detectLiveness-sessions/{session['sessionId']}", version=V1_3).json()["results"]["attempts"]


@pytest.mark.parametrize("expected", ["127.0.0.1", "127.0.0.0/8", "::ffff:127.0.0.1"])
def test_expected_client_address_or_block_is_accepted(api, live_frame, expected):
    session = api.create(V1_3, expectedClientIpAddress=expected).json()
    assert api.client_info(session["authToken"]).status_code == 200
    assert api.attempt(session["authToken"], [live_frame]).status_code == 200
    (attempt,) = _attempts(api, session)
    assert attempt["attemptStatus"] == "Succeeded" and attempt["clientInformation"] == [{"ip": "127.0.0.1"}]


@pytest.mark.parametrize("expected", ["203.0.113.7", "203.0.113.0/24", "2001:db8::/32"])
def test_requests_from_elsewhere_are_refused_recorded_and_not_counted(api, live_frame, expected):
    session = api.create(V1_3, expectedClientIpAddress=expected).json()
    info = api.client_info(session["authToken"])
    assert info.status_code == 403 and info.json()["error"]["code"] == "PermissionDenied"
    refused = api.attempt(session["authToken"], [live_frame])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "PermissionDenied"
    assert "X-Liveness-Digest" in refused.headers
    (attempt,) = _attempts(api, session)
    assert attempt["attemptStatus"] == "Failed" and attempt["error"]["code"] == "PermissionDenied"
    assert attempt["clientInformation"] == [{"ip": "127.0.0.1"}]
    assert "abuseMonitoringResult" not in attempt


def test_forwarded_for_counts_only_from_a_trusted_proxy(api, live_frame, monkeypatch):
    session = api.create(V1_3, expectedClientIpAddress="203.0.113.0/24", numberOfClientAttemptsAllowed=2).json()
    forged = {"X-Forwarded-For": "203.0.113.7"}
    # The peer (127.0.0.1) is nobody's trusted proxy: the header is the client's own claim.
    assert _client_get(api, session, forged).status_code == 403
    monkeypatch.setenv("FACE_TRUSTED_PROXIES", "AppServiceFrontEnd")  # the host named a peer: still ignored
    assert _client_get(api, session, forged).status_code == 403
    monkeypatch.setenv("FACE_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    assert _client_get(api, session, forged).status_code == 200
    assert _client_get(api, session, {"X-Forwarded-For": "203.0.113.7, 198.51.100.1"}).status_code == 403
    assert _client_get(api, session, {"X-Forwarded-For": "garbage"}).status_code == 403
    body, content_type = _frames(live_frame)
    answer = requests.post(f"{api.url}/face/{V1_3}/detectLiveness/singleModal", data=body, timeout=120,
                           headers={"Authorization": f"Bearer {session['authToken']}", "Content-Type": content_type,
                                    **forged})
    assert answer.status_code == 200, answer.text
    assert [a["clientInformation"] for a in _attempts(api, session) if a["attemptStatus"] == "Succeeded"] == [
        [{"ip": "203.0.113.7"}]]


def _client_get(api, session: dict, headers: dict) -> requests.Response:
    return requests.get(f"{api.url}/face/{V1_3}/detectLiveness/singleModal", timeout=60,
                        headers={"Authorization": f"Bearer {session['authToken']}", **headers})


def _frames(frame: bytes) -> tuple[bytes, str]:
    from live_support import frames_form

    return frames_form([frame])


def test_user_correlation_id_set_in_client_must_come_with_the_attempt(api, live_frame):
    session = api.create(V1_3, userCorrelationIdSetInClient=True, numberOfClientAttemptsAllowed=2).json()
    assert api.attempt(session["authToken"], [live_frame]).status_code == 400
    assert api.attempt(session["authToken"], [live_frame], {"userCorrelationId": str(uuid.uuid4())}).status_code == 200
    fixed = api.create(V1_3, userCorrelationId="user-2").json()
    assert api.attempt(fixed["authToken"], [live_frame], {"userCorrelationId": "other"}).status_code == 400

"""Abuse monitoring (v1.3-preview.1): one face under two userCorrelationIds is flagged both
ways, another person is not; many faces from one device is a fraud farm; turning monitoring
off deletes every kept template at once and keeps none after; nothing is left 48 hours on."""
from __future__ import annotations

import uuid

import pytest
import requests
from azure.data.tables import TableServiceClient

from live_support import PERSONS_DIR, V1_3, upright_jpeg
from shared.liveness import abuse
from test_retention import _stored

SETTINGS = f"face/{V1_3}/settings"


def _photo(privacy_probe, name: str) -> bytes:
    # The service embeds these with recognition_04's embedder: the privacy scan looks for it.
    return privacy_probe.saw_image(upright_jpeg(PERSONS_DIR / name), "detection_03", "recognition_04")


@pytest.fixture(scope="module")
def photos(privacy_probe) -> dict[str, bytes]:
    """Two different photos of one person, and two other people."""
    return {name: _photo(privacy_probe, name) for name in
            ("kit_harington/1.jpg", "kit_harington/3.jpg", "alex_lacamoire/1.jpg", "obama/2.jpg")}


def _set_monitoring(service, enabled: bool) -> None:
    answer = requests.patch(f"{service.url}/{SETTINGS}", json={"livenessAbuseMonitoring": {"enabled": enabled}},
                            headers={"Ocp-Apim-Subscription-Key": service.admin_key}, timeout=60)
    assert answer.status_code == 200 and answer.json()["livenessAbuseMonitoring"]["enabled"] is enabled


@pytest.fixture
def monitoring(service):
    """Monitoring on, with no observation left by other tests (their faces all came from
    127.0.0.1 too); left on afterwards."""
    abuse.delete_all()
    _set_monitoring(service, True)
    yield
    _set_monitoring(service, True)


def _observations(service) -> list[str]:
    table = TableServiceClient.from_connection_string(service.connection_string).get_table_client(
        f"{service.storage_prefix}{abuse.TABLE}")
    return [row["PartitionKey"] for row in table.list_entities(select=["PartitionKey"])]


def _session_with_attempt(api, frame: bytes, user: str | None, device: str | None = None) -> dict:
    fields = {"userCorrelationId": user, "enableSessionImage": True}
    if device is not None:
        fields["deviceCorrelationId"] = device
    session = api.create(V1_3, **fields).json()
    answer = api.attempt(session["authToken"], [frame])
    assert answer.status_code == 200 and answer.json()["attemptStatus"] == "Succeeded", answer.text
    return session


def _attempt(api, session: dict) -> dict:
    read = api.session(f"detectLiveness-sessions/{session['sessionId']}", version=V1_3).json()
    (attempt,) = read["results"]["attempts"]
    return attempt


def _reference(api, session: dict) -> dict:
    image = _attempt(api, session)["result"]["sessionImageId"]
    return {"sessionId": session["sessionId"], "attemptId": 1, "sessionImageId": image}


def test_one_face_under_two_users_is_flagged_another_person_is_not(service, api, clock, monitoring, photos):
    first = _session_with_attempt(api, photos["kit_harington/1.jpg"], "user-a-" + str(uuid.uuid4()))
    assert _attempt(api, first)["abuseMonitoringResult"] == {"isAbuseDetected": False, "otherFlaggedSessions": []}
    second = _session_with_attempt(api, photos["kit_harington/3.jpg"], "user-b-" + str(uuid.uuid4()))
    flagged = _attempt(api, second)["abuseMonitoringResult"]
    assert flagged == {"isAbuseDetected": True, "otherFlaggedSessions": [_reference(api, first)]}
    # The earlier session is flagged too, naming the later one.
    assert _attempt(api, first)["abuseMonitoringResult"] == {"isAbuseDetected": True,
                                                             "otherFlaggedSessions": [_reference(api, second)]}
    other = _session_with_attempt(api, photos["alex_lacamoire/1.jpg"], "user-c-" + str(uuid.uuid4()))
    assert _attempt(api, other)["abuseMonitoringResult"] == {"isAbuseDetected": False, "otherFlaggedSessions": []}
    sessions = [first["sessionId"], second["sessionId"], other["sessionId"]]
    assert sorted(_observations(service)) == sorted(sessions)

    clock.advance(48 * 3600 + 1)
    service.invoke("sweep")
    assert _observations(service) == []
    for session_id in sessions:
        assert _stored(service, session_id) == []


def test_the_same_user_again_is_not_abuse(api, monitoring, photos):
    user = "user-" + str(uuid.uuid4())
    _session_with_attempt(api, photos["kit_harington/1.jpg"], user)
    again = _session_with_attempt(api, photos["kit_harington/3.jpg"], user)
    assert _attempt(api, again)["abuseMonitoringResult"]["isAbuseDetected"] is False


def test_many_faces_from_one_device_is_a_fraud_farm(api, monitoring, photos, monkeypatch):
    monkeypatch.setenv("FACE_LIVENESS_ABUSE_FARM_FACES", "3")
    device = str(uuid.uuid4())
    first = _session_with_attempt(api, photos["kit_harington/1.jpg"], None, device)
    second = _session_with_attempt(api, photos["alex_lacamoire/1.jpg"], None, device)
    assert _attempt(api, second)["abuseMonitoringResult"]["isAbuseDetected"] is False  # two faces: below 3
    third = _session_with_attempt(api, photos["obama/2.jpg"], None, device)
    result = _attempt(api, third)["abuseMonitoringResult"]
    assert result == {"isAbuseDetected": True, "otherFlaggedSessions": [_reference(api, first), _reference(api, second)]}
    assert _attempt(api, first)["abuseMonitoringResult"]["otherFlaggedSessions"] == [_reference(api, third)]


def test_deleting_a_session_deletes_its_observation(service, api, monitoring, photos):
    session = _session_with_attempt(api, photos["kit_harington/1.jpg"], "user-" + str(uuid.uuid4()))
    assert _observations(service) == [session["sessionId"]]
    api.session(f"detectLiveness-sessions/{session['sessionId']}", "DELETE", version=V1_3)
    assert _observations(service) == []


def test_turning_monitoring_off_deletes_kept_templates_and_keeps_none(service, api, monitoring, photos):
    _session_with_attempt(api, photos["kit_harington/1.jpg"], "user-" + str(uuid.uuid4()))
    assert len(_observations(service)) == 1
    _set_monitoring(service, False)
    assert _observations(service) == []  # at once, not at the next sweep
    unmonitored = api.create(V1_3, userCorrelationId="user-" + str(uuid.uuid4())).json()
    assert unmonitored["isAbuseMonitoringEnabled"] is False
    assert api.attempt(unmonitored["authToken"], [photos["kit_harington/3.jpg"]]).status_code == 200
    attempt = _attempt(api, unmonitored)
    assert attempt["attemptStatus"] == "Succeeded" and "abuseMonitoringResult" not in attempt
    assert _observations(service) == []


def test_an_observation_ends_48_hours_after_it_was_made_even_if_its_session_lives_on(
        service, api, clock, monitoring, photos, monkeypatch):
    monkeypatch.setenv("FACE_LIVENESS_RETENTION_SECONDS", str(72 * 3600))
    session = _session_with_attempt(api, photos["kit_harington/1.jpg"], "user-" + str(uuid.uuid4()))
    clock.advance(47 * 3600)
    service.invoke("sweep")
    assert _observations(service) == [session["sessionId"]]
    clock.advance(3600 + 1)
    assert abuse.recent() == []  # unusable at once
    service.invoke("sweep")
    assert _observations(service) == []
    assert _attempt(api, session)["attemptStatus"] == "Succeeded"  # the session itself lives on

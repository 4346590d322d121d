"""Retention: DELETE at once, the sweep at 48 hours (moved service clock), and an attempt that
races a DELETE writes nothing back."""
from __future__ import annotations

from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from shared.liveness import attempts, images, sessions
from shared.liveness.store import SessionStore


def _stored(service, session_id: str) -> list[str]:
    """Everything stored under this session: table rows and blobs."""
    found = []
    tables = TableServiceClient.from_connection_string(service.connection_string)
    for table in tables.list_tables():
        if table.name.startswith(service.storage_prefix + "liveness"):
            rows = tables.get_table_client(table.name).query_entities("PartitionKey eq @pk",
                                                                      parameters={"pk": session_id})
            found += [f"{table.name}/{row['RowKey']}" for row in rows]
    blobs = BlobServiceClient.from_connection_string(service.connection_string)
    for container in blobs.list_containers(name_starts_with=service.storage_prefix):
        client = blobs.get_container_client(container.name)
        found += [f"{container.name}/{blob.name}" for blob in client.list_blobs(name_starts_with=session_id)]
    return found


def _used_session(api, frame: bytes) -> dict:
    session = api.create(enableSessionImage=True).json()
    assert api.attempt(session["authToken"], [frame]).status_code == 200
    return session


def test_sweep_removes_everything_of_a_session_at_48_hours(service, api, clock, live_frame):
    session = _used_session(api, live_frame)
    assert len(_stored(service, session["sessionId"])) == 3  # session row, attempt, session image
    clock.advance(47 * 3600)
    service.invoke("sweep")
    assert api.session(f"detectLiveness-sessions/{session['sessionId']}").status_code == 200
    clock.advance(3600 + 1)
    assert api.session(f"detectLiveness-sessions/{session['sessionId']}").status_code == 404
    service.invoke("sweep")
    assert _stored(service, session["sessionId"]) == []


def test_retention_window_is_a_setting(service, api, clock, monkeypatch, live_frame):
    monkeypatch.setenv("FACE_LIVENESS_RETENTION_SECONDS", "600")
    session = _used_session(api, live_frame)
    clock.advance(601)
    service.invoke("sweep")
    assert _stored(service, session["sessionId"]) == []


def test_delete_removes_everything_at_once(service, api, live_frame):
    session = _used_session(api, live_frame)
    api.session(f"detectLiveness-sessions/{session['sessionId']}", "DELETE")
    assert _stored(service, session["sessionId"]) == []
    assert api.session(f"detectLiveness-sessions/{session['sessionId']}", "DELETE").status_code == 404


def test_attempt_racing_a_delete_resurrects_nothing(service, api, monkeypatch, live_frame):
    session = api.create(enableSessionImage=True).json()
    analyse = attempts._analyse

    def analyse_then_lose_the_session(current, payload):
        result = analyse(current, payload)  # the session image is written here
        sessions.purge(current.session_id)  # a DELETE lands while the attempt is running
        return result

    monkeypatch.setattr(attempts, "_analyse", analyse_then_lose_the_session)
    answer = api.attempt(session["authToken"], [live_frame])
    assert answer.status_code == 401 and "X-Liveness-Digest" in answer.headers
    assert _stored(service, session["sessionId"]) == []


def test_sweep_removes_images_a_dead_attempt_left_behind(service, api, live_frame):
    session = _used_session(api, live_frame)
    orphan = images.new_image_id(session["sessionId"])
    SessionStore().delete(session["sessionId"])  # rows gone, images left (a crash half-way)
    images.put(session["sessionId"], orphan, live_frame)
    assert _stored(service, session["sessionId"])
    service.invoke("sweep")
    assert _stored(service, session["sessionId"]) == []


def test_an_attempt_whose_process_died_is_shown_failed_later(api, clock, monkeypatch, live_frame):
    session = api.create().json()
    # The process dies after admitting the attempt: its result is never written.
    monkeypatch.setattr(SessionStore, "finish", lambda store, current, entry: None)
    api.attempt(session["authToken"], [live_frame])
    path = f"detectLiveness-sessions/{session['sessionId']}"
    assert api.session(path).json()["results"]["attempts"][0]["attemptStatus"] == "Running"
    clock.advance(11 * 60)
    (attempt,) = api.session(path).json()["results"]["attempts"]
    assert attempt["attemptStatus"] == "Failed" and attempt["error"]["code"] == "AttemptAbandoned"

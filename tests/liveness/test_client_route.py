"""The token-bound client route: what a device may do with a session token, and every refusal
(with its status, recorded on the session with the digest of what the server received)."""
from __future__ import annotations

import base64
import hashlib
import re
import uuid

import requests

from live_support import GA, PREVIEW, SHARED_DIR, form, frames_form, upright_jpeg
from shared.api.handler import own_authorizer
from shared.liveness.payload import MAX_BODY_BYTES, MAX_FRAMES


def _session(api, **fields) -> dict:
    created = api.create(**fields)
    assert created.status_code == 200, created.text
    return created.json()


def _attempts(api, session_id: str) -> list[dict]:
    return api.session(f"detectLiveness-sessions/{session_id}").json()["results"]["attempts"]


def _refused(answer: requests.Response, status: int, body: bytes | None = None) -> dict:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert answer.headers["x-ms-error-code"] == error["code"]
    if body is not None:
        assert answer.headers["X-Liveness-Digest"] == hashlib.sha256(body).hexdigest().upper()
    return error


def test_digest_is_the_sha256_of_the_body_received(api, live_frame):
    session = _session(api)
    body, content_type = frames_form([live_frame])
    answer = api.post_client(session["authToken"], body, content_type)
    assert answer.json()["digest"] == hashlib.sha256(body).hexdigest().upper()


def test_token_allows_three_attempts_then_refuses_and_records_the_fourth(api, live_frame):
    session = _session(api)
    body, content_type = frames_form([live_frame])
    remaining = [api.post_client(session["authToken"], body, content_type).json()["attemptsRemaining"]
                 for _ in range(3)]
    assert remaining == [2, 1, 0]
    _refused(api.post_client(session["authToken"], body, content_type), 401, body)
    attempts = _attempts(api, session["sessionId"])
    assert [a["attemptId"] for a in attempts] == [1, 2, 3, 4]
    assert [a["attemptStatus"] for a in attempts] == ["Succeeded"] * 3 + ["Failed"]
    assert attempts[3]["error"]["code"] == "401" and "3 attempts" in attempts[3]["error"]["message"]


def test_expired_token_is_refused_and_recorded(api, clock, live_frame):
    session = _session(api, authTokenTimeToLiveInSeconds=60)
    clock.advance(61)
    body, content_type = frames_form([live_frame])
    assert "expired" in _refused(api.post_client(session["authToken"], body, content_type), 401, body)["message"]
    (attempt,) = _attempts(api, session["sessionId"])
    assert attempt["attemptStatus"] == "Failed" and "expired" in attempt["error"]["message"]
    assert api.client_info(session["authToken"]).status_code == 401
    preview = api.session(f"detectLiveness/singleModal/sessions/{session['sessionId']}", version=PREVIEW).json()
    assert preview["sessionExpired"] is True and preview["status"] == "NotStarted"


def test_deleted_session_revokes_its_token(api, live_frame):
    session = _session(api)
    assert api.client_info(session["authToken"]).status_code == 200
    api.session(f"detectLiveness-sessions/{session['sessionId']}", "DELETE")
    body, content_type = frames_form([live_frame])
    _refused(api.post_client(session["authToken"], body, content_type), 401, body)
    assert api.client_info(session["authToken"]).status_code == 401


def test_token_of_one_kind_is_refused_on_the_other_kinds_route(api, live_frame):
    session = _session(api)
    body, content_type = frames_form([live_frame])
    error = _refused(api.post_client(session["authToken"], body, content_type, verify=True), 401, body)
    assert "cannot be used" in error["message"]
    (attempt,) = _attempts(api, session["sessionId"])
    assert attempt["attemptStatus"] == "Failed"


def test_tampered_forged_and_missing_tokens_are_refused(api, live_frame):
    token = _session(api)["authToken"]
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-1] ^= 1
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    body, content_type = frames_form([live_frame])
    for bad in (tampered, token[:-4], "garbage", str(uuid.uuid4())):
        _refused(api.post_client(bad, body, content_type), 401)
    no_token = requests.post(f"{api.url}/face/{GA}/detectLiveness/singleModal", data=body, timeout=60,
                             headers={"Content-Type": content_type, "Ocp-Apim-Subscription-Key": api.key})
    assert no_token.status_code == 401  # a key is no session token


def test_session_token_is_refused_on_every_other_route(service, api):
    token = _session(api)["authToken"]
    checked = 0
    for function in service.host.functions.values():
        route = function.trigger.get("route") or ""
        if function.kind != "httpTrigger" or not route.startswith("face/") or own_authorizer(function.user_function):
            continue
        versions = getattr(function.user_function, "face_api_versions", None) or (GA,)
        path = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), route.replace("{apiVersion}", sorted(versions)[-1]))
        for method in function.methods or ("GET",):
            answer = requests.request(method, f"{service.url}/{path}", data=b"{}", timeout=30, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            assert answer.status_code == 401, (method, path, answer.text)
            checked += 1
    assert checked > 50


def test_oversize_bodies_and_too_many_frames_are_413(api, live_frame):
    session = _session(api)
    big = b"\xff\xd8\xff" + b"\0" * (MAX_BODY_BYTES + 1)
    body, content_type = frames_form([big])
    _refused(api.post_client(session["authToken"], body, content_type), 413, body)
    body, content_type = frames_form([live_frame] * (MAX_FRAMES + 1))
    _refused(api.post_client(session["authToken"], body, content_type), 413, body)
    assert [a["error"]["code"] for a in _attempts(api, session["sessionId"])] == ["BadArgument", "BadArgument"]


def test_malformed_bodies_are_400(api):
    session = _session(api)
    token = session["authToken"]
    assert api.post_client(token, b"not multipart", "application/json").status_code == 415
    body, content_type = form([("metadata", None, "application/json", b"{}")])
    assert api.post_client(token, body, content_type).status_code == 400  # no frame
    body, content_type = form([("frame", "f.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 2000)])
    assert _refused(api.post_client(token, body, content_type), 400)["code"] == "InvalidImage"
    assert api.post_client(token, b"--x\r\nbroken", "multipart/form-data; boundary=x").status_code == 400
    assert len(_attempts(api, session["sessionId"])) == 4  # every refusal recorded
    assert api.client_info(token).json()["attemptsRemaining"] == 3  # none of them used an attempt


def test_device_hammering_is_429_with_retry_after(api, monkeypatch, live_frame):
    monkeypatch.setenv("FACE_LIVENESS_DEVICE_ATTEMPTS", "2")
    monkeypatch.setenv("FACE_LIVENESS_DEVICE_WINDOW_SECONDS", "300")
    device = str(uuid.uuid4())
    body, content_type = frames_form([live_frame])
    tokens = [_session(api, deviceCorrelationId=device)["authToken"] for _ in range(2)]
    assert api.post_client(tokens[0], body, content_type).status_code == 200
    assert api.post_client(tokens[1], body, content_type).status_code == 200
    answer = api.post_client(tokens[1], body, content_type)
    assert _refused(answer, 429, body)["code"] == "429"
    assert 1 <= int(answer.headers["Retry-After"]) <= 300
    other = _session(api)["authToken"]  # another device is not affected
    assert api.post_client(other, body, content_type).status_code == 200


def test_device_id_set_in_client_comes_with_the_attempt(api, live_frame):
    session = _session(api, deviceCorrelationId=None, deviceCorrelationIdSetInClient=True)
    body, content_type = frames_form([live_frame])
    assert api.post_client(session["authToken"], body, content_type).status_code == 400
    answer = api.attempt(session["authToken"], [live_frame], {"deviceCorrelationId": str(uuid.uuid4())})
    assert answer.status_code == 200 and answer.json()["attemptStatus"] == "Succeeded"
    fixed = _session(api)
    assert api.attempt(fixed["authToken"], [live_frame], {"deviceCorrelationId": "x"}).status_code == 400


def test_frames_without_a_usable_face_fail_the_attempt(api, privacy_probe):
    session = _session(api)
    noface = privacy_probe.saw_image(upright_jpeg(sorted((SHARED_DIR / "data/faces/noface").glob("*.jpg"))[0]))
    answer = api.attempt(session["authToken"], [noface])
    assert answer.status_code == 200 and answer.json()["attemptStatus"] == "Failed"
    assert answer.json()["error"]["code"] == "FaceNotFound"
    (attempt,) = _attempts(api, session["sessionId"])
    assert attempt["error"]["code"] == "FaceNotFound" and "result" not in attempt
    multi = privacy_probe.saw_image(upright_jpeg(sorted((SHARED_DIR / "data/faces/multi").glob("*.jpg"))[0]))
    assert api.attempt(session["authToken"], [multi]).json()["error"]["code"] == "MultipleFaces"

"""The pure parts of liveness: token sealing and rotation, the multipart parser, the challenge."""
from __future__ import annotations

import base64
import secrets
import uuid
from datetime import timedelta

import pytest

from live_support import form
from shared import clock
from shared.api.multipart import parse_form
from shared.errors import BadArgument, UnsupportedMediaType
from shared.liveness import challenge, token
from shared.liveness.kinds import LIVENESS, PASSIVE, WITH_VERIFY
from shared.liveness.records import Session
from shared.storage import crypto


def _session(kind=LIVENESS) -> Session:
    return Session(str(uuid.uuid4()), kind, PASSIVE, clock.now(), 600, timedelta(hours=48), "device", False,
                   False, False, "2024-11-15")


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def test_token_round_trips_and_survives_a_key_rotation(monkeypatch):
    monkeypatch.setenv("FACE_LIVENESS_TOKEN_KEY", _key())
    session = _session(WITH_VERIFY)
    minted = token.mint(session)
    claims = token.claims(minted)
    assert (claims.session_id, claims.kind) == (session.session_id, WITH_VERIFY)
    assert abs((claims.expires - session.token_expires).total_seconds()) < 1
    old = crypto.LIVENESS_TOKEN_KEYS.read_current()
    monkeypatch.setenv("FACE_LIVENESS_TOKEN_KEY", _key())
    assert token.claims(minted) is None  # the old key is gone
    monkeypatch.setenv("FACE_LIVENESS_TOKEN_OLD_KEYS", old)
    assert token.claims(minted) == claims  # ... and accepted again as an old key


def test_token_is_opaque_and_bound_to_its_purpose(monkeypatch):
    monkeypatch.setenv("FACE_LIVENESS_TOKEN_KEY", _key())
    session = _session()
    minted = token.mint(session)
    assert session.session_id.replace("-", "") not in base64.urlsafe_b64decode(minted + "==").hex()
    monkeypatch.setenv("FACE_TEMPLATE_KEY", _key())
    sealed_elsewhere = crypto.encrypt(b"\0" * 25, b"face-liveness-session-token")  # template key, not token key
    assert token.claims(base64.urlsafe_b64encode(sealed_elsewhere).decode()) is None


def test_multipart_parser_keeps_binary_parts_exact():
    data = bytes(range(256)) * 4 + b"\r\n--not-the-boundary\r\n"
    body, content_type = form([("a", None, "text/plain", b"x"), ("frame", "f.jpg", "image/jpeg", data)])
    parts = parse_form({"Content-Type": content_type}, body, max_parts=4)
    assert [(p.name, p.filename, p.content_type) for p in parts] == [("a", None, "text/plain"),
                                                                     ("frame", "f.jpg", "image/jpeg")]
    assert parts[1].data == data


@pytest.mark.parametrize("content_type, body", [
    ("multipart/form-data", b"--x\r\n\r\n--x--"),  # no boundary
    ("multipart/form-data; boundary=x", b"garbage"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--\r\n"),  # no name
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n"),  # no end
])
def test_multipart_parser_refuses_malformed_bodies(content_type, body):
    with pytest.raises(BadArgument):
        parse_form({"Content-Type": content_type}, body, max_parts=4)


def test_multipart_parser_needs_form_data_and_bounds_parts():
    with pytest.raises(UnsupportedMediaType):
        parse_form({"Content-Type": "application/json"}, b"{}", max_parts=4)
    body, content_type = form([("p", None, "text/plain", b"v")] * 5)
    with pytest.raises(BadArgument):
        parse_form({"Content-Type": content_type}, body, max_parts=4)


def test_challenges_are_random_with_both_directions():
    drawn = {challenge.new_challenge() for _ in range(200)}
    assert len(drawn) == 6 and all({challenge.TURN_LEFT, challenge.TURN_RIGHT} == set(steps) for steps in drawn)


def test_turns_are_read_relative_to_the_first_frame():
    left, right = challenge.TURN_LEFT, challenge.TURN_RIGHT
    yaws = [5, 6, 25, 24, 4, -12, -14, 3, 30, 7]  # straight, left, straight, right, straight, left, straight
    assert challenge.turns(yaws) == [left, right, left]
    assert challenge.follows(yaws, [left, right, left]) and not challenge.follows(yaws, [left, right])
    assert challenge.turns([0, 16, 30, 16, 14]) == [left]  # one long turn is one turn
    assert challenge.turns([0, 12, -12, 0]) == []  # never far enough
    assert challenge.is_still([3.0, 4.5, 2.9]) and not challenge.is_still([0, 10])
    assert challenge.centred([0, 20, 2, -20, -5]) == [0, 2, 4]


def test_a_verify_reference_and_the_frames_use_recognition_04s_fused_default(monkeypatch):
    from gallery_support import photos
    from shared.engine.engine import embedder_for
    from shared.engine.landmarks import FaceMeshModel
    from shared.liveness.frames import Frame, FrameView
    from shared.liveness.verify import match, verify_reference

    reference = verify_reference(photos("obama")[0].read_bytes(), False, None)
    assert reference.template.embedder == embedder_for("recognition_04") == "dlib_sface"
    view = FrameView(Frame(0, 0, photos("obama")[1].read_bytes()))
    runs = []
    run_mesh = FaceMeshModel.mesh
    monkeypatch.setattr(FaceMeshModel, "mesh", lambda self, *args: runs.append(1) or run_mesh(self, *args))
    assert abs(view.yaw) < 45
    confidence, identical = match(reference, view.template(reference.template.embedder, "recognition_04"))
    assert len(runs) == 1  # the template's dlib part reads the mesh the yaw came from
    assert identical and confidence > 0.5

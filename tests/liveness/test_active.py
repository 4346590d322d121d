"""PassiveActive: the head-turn challenge across frames, and what cannot pass it.

Head turns come from real photos of one person: kit_harington/1 looks straight ahead,
kit_harington/2 is turned to his right (yaw -23), and its mirror image turned to his left."""
from __future__ import annotations

import pytest

from live_support import PERSONS_DIR, upright_jpeg
from shared.liveness.challenge import TURN_LEFT, TURN_RIGHT


@pytest.fixture(scope="module")
def poses(privacy_probe) -> dict[str, bytes]:
    kit = sorted((PERSONS_DIR / "kit_harington").glob("*.jpg"))
    frames = {"center": upright_jpeg(kit[0]), TURN_RIGHT: upright_jpeg(kit[1]), TURN_LEFT: upright_jpeg(kit[1], True),
              "stranger": upright_jpeg(sorted((PERSONS_DIR / "obama").glob("*.jpg"))[0])}
    return {name: privacy_probe.saw_image(frame) for name, frame in frames.items()}


def _session(api) -> tuple[str, str, list[str]]:
    session = api.create(livenessOperationMode="PassiveActive", sendResultsToClient=True).json()
    info = api.client_info(session["authToken"]).json()
    assert info["livenessOperationMode"] == "PassiveActive" and len(info["challenge"]) == 3
    assert {TURN_LEFT, TURN_RIGHT} == set(info["challenge"])
    return session["sessionId"], session["authToken"], info["challenge"]


def _sequence(poses: dict[str, bytes], steps: list[str]) -> list[bytes]:
    frames = [poses["center"], poses["center"]]
    for step in steps:
        frames += [poses[step], poses[step], poses["center"]]
    return frames


def test_following_the_challenge_passes(api, poses):
    _, token, steps = _session(api)
    answer = api.attempt(token, _sequence(poses, steps), {"frames": [{"timeOffsetMs": 250 * i} for i in range(11)]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["livenessDecision"] == "realface"


def test_a_still_picture_cannot_pass(api, poses):
    _, token, steps = _session(api)
    assert api.attempt(token, [poses["center"]] * 11).json()["livenessDecision"] == "spoofface"


def test_turns_in_the_wrong_order_or_missing_do_not_pass(api, poses):
    _, token, steps = _session(api)
    swapped = [TURN_LEFT if step == TURN_RIGHT else TURN_RIGHT for step in steps]
    assert api.attempt(token, _sequence(poses, swapped)).json()["livenessDecision"] == "uncertain"
    assert api.attempt(token, _sequence(poses, steps[:2])).json()["livenessDecision"] == "uncertain"


def test_another_face_in_the_sequence_is_a_spoof(api, poses):
    session_id, token, steps = _session(api)
    frames = _sequence(poses, steps)
    frames[-1] = poses["stranger"]
    assert api.attempt(token, frames).json()["livenessDecision"] == "spoofface"
    (attempt,) = api.session(f"detectLiveness-sessions/{session_id}").json()["results"]["attempts"]
    assert attempt["result"]["livenessDecision"] == "spoofface"

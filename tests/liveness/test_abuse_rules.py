"""The abuse checks on synthetic observations (shared.liveness.abuse.flagged): who is flagged,
the farm window, and what is never compared. Templates are unit vectors of SFace's space:
the same vector is one face, orthogonal ones are different people."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from shared.engine.types import Template
from shared.liveness.abuse import Observation, flagged

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _face(index: int, model: str = "recognition_04") -> Template:
    vector = np.zeros(128, np.float32)
    vector[index] = 1.0
    return Template(vector, "sface", "2021dec", model)


def _seen(session: str, face: int, minutes: float = 0, user: str | None = None, device: str | None = None,
          ip: str | None = None, model: str = "recognition_04") -> Observation:
    return Observation(session, 1, START + timedelta(minutes=minutes), _face(face, model), user, device, ip, None)


def _sessions(found: list[Observation]) -> list[str]:
    return [observation.session_id for observation in found]


def test_one_face_under_other_users_only():
    earlier = [_seen("a", 0, user="u1"), _seen("b", 0, user="u2"), _seen("c", 1, user="u3"), _seen("d", 0),
               _seen("e", 0, user="u4", model="recognition_03")]
    assert _sessions(flagged(_seen("new", 0, 5, user="u2"), earlier)) == ["a"]  # b: same user; c: other face; e: another model
    assert flagged(_seen("new", 0, 5), earlier) == []  # no userCorrelationId: nothing to compare with


@pytest.mark.parametrize("source", [{"device": "d1"}, {"ip": "203.0.113.7"}])
def test_a_farm_is_many_faces_from_one_source_within_the_window(monkeypatch, source):
    monkeypatch.setenv("FACE_LIVENESS_ABUSE_FARM_FACES", "3")
    monkeypatch.setenv("FACE_LIVENESS_ABUSE_FARM_WINDOW_SECONDS", "600")
    earlier = [_seen("a", 0, 0, **source), _seen("b", 1, 5, **source), _seen("x", 2, 5, device="other", ip="x")]
    assert _sessions(flagged(_seen("new", 3, 9, **source), earlier)) == ["a", "b"]
    assert _sessions(flagged(_seen("new", 3, 11, **source), earlier)) == []  # "a" left the window: 2 faces
    assert flagged(_seen("new", 1, 9, **source), earlier) == []  # a face already counted: still 2
    monkeypatch.setenv("FACE_LIVENESS_ABUSE_FARM_FACES", "0")
    assert flagged(_seen("new", 3, 9, **source), earlier) == []


def test_a_session_never_flags_itself():
    assert flagged(_seen("a", 0, 5, user="u2"), [_seen("a", 0, 0, user="u1")]) == []

"""Unit tests of the gallery field rules, quotas and training-status rendering."""
from __future__ import annotations

import pytest

from shared.errors import BadArgument
from shared.galleries import quotas, validation
from shared.galleries.kinds import LARGE_PERSON_GROUP, PERSON_GROUP
from shared.galleries.training_status import TrainingState, render


@pytest.mark.parametrize("value", ["a", "abc-def_1", "x" * 64])
def test_container_id_accepts_valid(value):
    assert validation.container_id(value, "personGroupId") == value


@pytest.mark.parametrize("value", ["", "A", "a b", "x" * 65, "é", None, 5])
def test_container_id_rejects_invalid(value):
    with pytest.raises(BadArgument):
        validation.container_id(value, "personGroupId")


def test_name_and_user_data_limits():
    assert validation.name("n" * 128, required=True) == "n" * 128
    with pytest.raises(BadArgument):
        validation.name("n" * 129, required=True)
    with pytest.raises(BadArgument):
        validation.name("", required=False)
    with pytest.raises(BadArgument):
        validation.name(None, required=True)
    assert validation.user_data("u" * 16384) == "u" * 16384
    with pytest.raises(BadArgument):
        validation.user_data("u" * 16385)
    with pytest.raises(BadArgument):
        validation.user_data("u" * 1025, validation.FACE_USER_DATA_MAX)


def test_paging():
    assert validation.paging(None, None) == ("", 1000)
    assert validation.paging("abc", "5") == ("abc", 5)
    for top in ("0", "1001", "x"):
        with pytest.raises(BadArgument):
            validation.paging(None, top)
    with pytest.raises(BadArgument):
        validation.paging("s" * 65, None)


def test_target_face():
    rect = validation.target_face("10,20,30,40")
    assert (rect.left, rect.top, rect.width, rect.height) == (10, 20, 30, 40)
    assert validation.target_face(None) is None
    for bad in ("1,2,3", "a,b,c,d", "1,2,0,4", "-1,2,3,4"):
        with pytest.raises(BadArgument):
            validation.target_face(bad)


def test_quota_tiers_and_overrides(monkeypatch):
    monkeypatch.delenv("FACE_TIER", raising=False)
    assert quotas.limit(PERSON_GROUP, "persons") == 10_000
    assert quotas.limit(LARGE_PERSON_GROUP, "persons") == 1_000_000
    monkeypatch.setenv("FACE_TIER", "F0")
    assert quotas.limit(PERSON_GROUP, "persons") == 1_000
    monkeypatch.setenv("FACE_QUOTA_PERSONGROUP_PERSONS", "3")
    assert quotas.limit(PERSON_GROUP, "persons") == 3
    assert quotas.faces_per_person() == 248
    monkeypatch.setenv("FACE_QUOTA_FACES_PER_PERSON", "2")
    assert quotas.faces_per_person() == 2


def test_training_status_casing_per_version():
    state = TrainingState("notStarted", "2026-01-01T00:00:00.000Z", None, None)
    assert render(state, "v1.2")["status"] == "notStarted"
    assert set(render(state, "v1.2")) == {"status", "createdDateTime", "lastActionDateTime", "lastSuccessfulTrainingDateTime"}
    old = render(state, "v1.0")
    assert old["status"] == "notstarted" and "lastSuccessfulTrainingDateTime" not in old
    failed = TrainingState("failed", "t0", "t1", None, "No face in the container.")
    assert render(failed, "v1.2-preview.1")["message"] == "No face in the container."

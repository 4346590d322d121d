"""Quotas (403 QuotaExceeded) and the faces-per-person limit under parallel adds.

Limits are lowered through their FACE_QUOTA_* settings (the devhost runs in this process),
and each test uses a fresh storage prefix so subscription-wide counters start at zero.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from gallery_support import photos

PARALLEL = 8


def _post_face(service, path: str, image: bytes) -> requests.Response:
    return requests.post(f"{service.url}/face/v1.2{path}", data=image, timeout=60,
                         headers={"Ocp-Apim-Subscription-Key": service.admin_key,
                                  "Content-Type": "application/octet-stream"})


def _parallel_adds(service, path: str, images: list[bytes]) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(lambda image: _post_face(service, path, image), images))


def _codes(responses: list[requests.Response]) -> list[int]:
    return sorted(response.status_code for response in responses)


def test_parallel_adds_never_exceed_faces_per_person(service, old_client, gallery_id, isolated, monkeypatch):
    monkeypatch.setenv("FACE_QUOTA_FACES_PER_PERSON", "3")
    old_client.person_group.create(gallery_id, name="limits")
    person_id = old_client.person_group_person.create(gallery_id, name="p").person_id
    images = [p.read_bytes() for p in photos("deepface_person03")][:PARALLEL]
    responses = _parallel_adds(service, f"/persongroups/{gallery_id}/persons/{person_id}/persistedfaces", images)
    assert _codes(responses) == [200] * 3 + [403] * (len(images) - 3)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 403} == {"QuotaExceeded"}
    assert len(old_client.person_group_person.get(gallery_id, person_id).persisted_face_ids) == 3


def test_parallel_adds_never_exceed_face_list_size(service, old_client, gallery_id, isolated, monkeypatch):
    monkeypatch.setenv("FACE_QUOTA_FACELIST_FACES", "2")
    old_client.face_list.create(gallery_id, name="small")
    images = [p.read_bytes() for p in photos("deepface_person04")][:PARALLEL]
    responses = _parallel_adds(service, f"/facelists/{gallery_id}/persistedfaces", images)
    assert _codes(responses) == [200] * 2 + [403] * (len(images) - 2)
    assert len(old_client.face_list.get(gallery_id).persisted_faces) == 2


def test_container_and_person_quotas(old_client, isolated, monkeypatch):
    from azure.cognitiveservices.vision.face.models import APIErrorException

    monkeypatch.setenv("FACE_QUOTA_PERSONGROUP_CONTAINERS", "2")
    monkeypatch.setenv("FACE_QUOTA_PERSONGROUP_PERSONS", "2")
    monkeypatch.setenv("FACE_QUOTA_PERSONGROUP_PERSONS_TOTAL", "3")
    groups, people = old_client.person_group, old_client.person_group_person
    groups.create("quota-a", name="a")
    groups.create("quota-b", name="b")
    with pytest.raises(APIErrorException) as err:
        groups.create("quota-c", name="c")
    assert err.value.response.status_code == 403 and err.value.error.error.code == "QuotaExceeded"
    first = people.create("quota-a", name="1").person_id
    people.create("quota-a", name="2")
    with pytest.raises(APIErrorException) as err:  # per group
        people.create("quota-a", name="3")
    assert err.value.error.error.code == "QuotaExceeded"
    people.create("quota-b", name="3")
    with pytest.raises(APIErrorException) as err:  # in all groups
        people.create("quota-b", name="4")
    assert err.value.error.error.code == "QuotaExceeded"
    people.delete("quota-a", first)
    people.create("quota-b", name="4")
    groups.delete("quota-a")
    groups.create("quota-c", name="c")

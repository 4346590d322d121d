"""Races through the HTTP API: parallel face adds and deletes on one person (the 248 limit,
here 3, holds; the face list, the face rows and the searchable set agree afterwards), and a
dynamic group update racing the delete of the person it adds."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from directory_support import error_code
from gallery_support import photos
from svc_support import all_people

MODEL = "recognition_01"
FACES = f"recognitionModels/{MODEL}/persistedfaces"


def _searchable_faces(person_id: str) -> set[str]:
    """The person's faces a fresh process would return (another instance's view)."""
    from shared.directory.view import ModelView
    from shared.postgres import vectors
    from shared.postgres.config import postgres_search

    if postgres_search():
        return {face for face, owner in vectors.faces_of(vectors.directory_container(MODEL)).items()
                if owner == person_id}

    state = ModelView(MODEL).current()
    rows = [row for row in range(state.count) if state.buffer.person_ids[row] == person_id]
    hidden = set(state.removed_faces)
    return {state.buffer.face_ids[row] for row in rows} - hidden if person_id not in state.removed_persons else set()


def test_parallel_adds_and_deletes_on_one_person(api, monkeypatch, privacy_probe):
    from shared.directory import repository

    monkeypatch.setenv("FACE_QUOTA_FACES_PER_PERSON", "3")
    image = privacy_probe.saw_image(photos(all_people()[0])[0].read_bytes())
    person_id = api("POST", "persons", {"name": "busy"}).json()["personId"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        added = list(pool.map(lambda _: api("POST", f"persons/{person_id}/{FACES}", data=image), range(8)))
    accepted = [response for response in added if response.status_code == 202]
    assert len(accepted) == 3, [response.status_code for response in added]
    assert all(error_code(r) == "QuotaExceeded" for r in added if r.status_code != 202)
    face_ids = [response.json()["persistedFaceId"] for response in accepted]

    def delete_or_add(step: int):
        if step < 2:
            return api("DELETE", f"persons/{person_id}/{FACES}/{face_ids[step]}")
        return api("POST", f"persons/{person_id}/{FACES}", data=image)

    with ThreadPoolExecutor(max_workers=6) as pool:
        mixed = list(pool.map(delete_or_add, range(6)))
    assert [r.status_code for r in mixed[:2]] == [202, 202]
    assert sum(r.status_code == 202 for r in mixed[2:]) <= 2  # room for the two deleted ones at most

    listed = set(api("GET", f"persons/{person_id}/{FACES}").json()["persistedFaceIds"])
    stored = set(repository.find_pack(person_id, MODEL).face_ids)
    assert len(listed) <= 3 and not listed & set(face_ids[:2])
    assert listed == stored == _searchable_faces(person_id)
    assert api.finished(api("DELETE", f"persons/{person_id}"))["status"] == "succeeded"
    assert repository.find_pack(person_id, MODEL).faces == [] and _searchable_faces(person_id) == set()


def test_group_update_racing_a_person_delete(api, privacy_probe):
    from shared.directory import groups

    image = privacy_probe.saw_image(photos(all_people()[1])[0].read_bytes())
    query = api.detect(image, MODEL)
    group = "race-" + uuid.uuid4().hex[:12]
    assert api("PUT", f"dynamicpersongroups/{group}", {"name": "race"}).status_code == 200
    try:
        for _ in range(4):
            person_id = api("POST", "persons", {"name": "racer"}).json()["personId"]
            assert api.finished(api("POST", f"persons/{person_id}/{FACES}", data=image))["status"] == "succeeded"
            start = threading.Barrier(2)

            def add_to_group():
                start.wait()
                return api("PATCH", f"dynamicpersongroups/{group}", {"addPersonIds": [person_id]})

            def delete_person():
                start.wait()
                return api("DELETE", f"persons/{person_id}")

            with ThreadPoolExecutor(max_workers=2) as pool:
                update, delete = pool.submit(add_to_group), pool.submit(delete_person)
                assert delete.result().status_code == 202
                assert update.result().status_code == 202  # its operation succeeds or names the person
            members = api("GET", f"dynamicpersongroups/{group}/persons").json()["personIds"]
            assert person_id not in members
            assert list(groups.refs_table().partition(person_id)) == []
            found = api("POST", "identify", {"faceIds": [query], "dynamicPersonGroupId": group}).json()
            assert all(candidate["personId"] != person_id for candidate in found[0]["candidates"])
    finally:
        api("DELETE", f"dynamicpersongroups/{group}")

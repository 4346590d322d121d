"""The shared dev photos enrolled into the PersonDirectory without training: every held-out
photo identified against the whole directory, a dynamic group holding a subset (persons
outside it never returned) and a personIds list; verify face-to-person; a deleted person and
a deleted face are gone at once, here and in a fresh process view (another instance)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from directory_support import error_code
from gallery_support import photos
from svc_support import all_people

MODEL = "recognition_04"
FACES = f"recognitionModels/{MODEL}/persistedfaces?detectionModel=detection_03"


@pytest.fixture(scope="module")
def directory(api, privacy_probe):
    """Each dev person with all photos but the last; returns (person ids, held-out faceIds)."""
    names = all_people()

    def enrol(name: str) -> tuple[str, str]:
        created = api("POST", "persons", {"name": name, "userData": "dev photo person"})
        person_id = created.json()["personId"]
        assert api.finished(created)["status"] == "succeeded"
        for path in photos(name)[:-1]:
            image = privacy_probe.saw_image(path.read_bytes(), "detection_03", MODEL)
            added = api("POST", f"persons/{person_id}/{FACES}", data=image)
            assert api.finished(added)["status"] == "succeeded", added.text
        held_out = privacy_probe.saw_image(photos(name)[-1].read_bytes(), "detection_03", MODEL)
        return person_id, api.detect(held_out, MODEL)

    # Their operations outlive every later clock move (the liveness retention test moves the
    # clock 48 h and sweeps), so the final privacy scan reads operation rows too.
    with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(max_workers=4) as pool:
        patch.setenv("FACE_OPERATION_RETENTION_HOURS", str(24 * 365))
        enrolled = dict(zip(names, pool.map(enrol, names)))
    return {name: pid for name, (pid, _) in enrolled.items()}, {name: query for name, (_, query) in enrolled.items()}


def _top(api, query: str, version: str | None = None, **target) -> list[str]:
    response = api("POST", "identify", {"faceIds": [query], "maxNumOfCandidatesReturned": 5, **target},
                   version=version)
    assert response.status_code == 200, response.text
    return [candidate["personId"] for candidate in response.json()[0]["candidates"]]


def test_every_held_out_photo_is_identified_in_the_whole_directory(api, directory):
    person_ids, queries = directory
    for name, query in queries.items():
        assert _top(api, query, personIds=["*"])[0] == person_ids[name], name
        assert _top(api, query, "v1.2", personIds=["*"])[0] == person_ids[name]  # GA has the targets too


def test_a_dynamic_group_returns_only_its_members(api, directory):
    person_ids, queries = directory
    names = sorted(person_ids)
    inside = names[: len(names) // 2]
    group = f"enrol-{abs(hash(tuple(names))) % 10**8}"
    created = api("PUT", f"dynamicpersongroups/{group}", {"name": "half",
                                                          "addPersonIds": [person_ids[n] for n in inside]})
    assert api.finished(created)["status"] == "succeeded"
    try:
        members = {person_ids[n] for n in inside}
        for name, query in queries.items():
            found = _top(api, query, dynamicPersonGroupId=group)
            assert set(found) <= members, name
            if name in inside:
                assert found[0] == person_ids[name], name
    finally:
        api("DELETE", f"dynamicpersongroups/{group}")


def test_a_person_ids_list_restricts_identify(api, directory):
    person_ids, queries = directory
    names = sorted(person_ids)
    listed = [person_ids[n] for n in names[:3]]
    for name in names[:5]:
        found = _top(api, queries[name], personIds=listed)
        assert set(found) <= set(listed)
        if person_ids[name] in listed:
            assert found[0] == person_ids[name]


def test_verify_face_to_person(api, directory):
    person_ids, queries = directory
    names = sorted(person_ids)
    same = api("POST", "verify", {"faceId": queries[names[0]], "personId": person_ids[names[0]]}).json()
    other = api("POST", "verify", {"faceId": queries[names[0]], "personId": person_ids[names[1]]}).json()
    assert same["isIdentical"] and not other["isIdentical"]
    assert same["confidence"] > other["confidence"]
    v1 = api("POST", "verify", {"faceId": queries[names[0]], "personId": person_ids[names[0]]}, version="v1.0")
    assert v1.status_code == 400 and error_code(v1) == "BadArgument"  # v1.0 has no directory target


def test_recognition_models_must_match(api, directory, privacy_probe):
    person_ids, _ = directory
    name = sorted(person_ids)[0]
    image = privacy_probe.saw_image(photos(name)[-1].read_bytes(), "detection_03", "recognition_01")
    query = api.detect(image, "recognition_01")
    verify = api("POST", "verify", {"faceId": query, "personId": person_ids[name]})
    assert verify.status_code == 400 and error_code(verify) == "BadArgument"
    mixed = api("POST", "identify", {"faceIds": [query, api.detect(image, MODEL)], "personIds": ["*"]})
    assert mixed.status_code == 400 and error_code(mixed) == "BadArgument"


@pytest.mark.embedded_engine
def test_identify_after_the_queue_worker_compacted_the_directory(api, directory, privacy_probe):
    """The compaction function runs from its queue (devhost) beside live traffic; answers stay."""
    import time

    from shared.directory import journal

    person_ids, queries = directory
    before = {name: _top(api, query, personIds=["*"])[0] for name, query in queries.items()}
    target = journal.read_head(MODEL).seq
    journal.request_compaction(MODEL)
    deadline = time.monotonic() + 120
    while journal.read_head(MODEL).snapshot_seq < target:
        assert time.monotonic() < deadline, "the compaction worker did not publish"
        time.sleep(0.2)
    assert {name: _top(api, query, personIds=["*"])[0] for name, query in queries.items()} == before
    assert before == person_ids
    # The enrolled persons stay for the privacy scan, which must find their rows and blobs.
    privacy_probe.stored_in("dirpersons", "dirfaces", "dirjournal", "operations", "snapshots/directory/")


@pytest.mark.embedded_engine
def test_deleted_person_and_face_are_gone_at_once_on_every_instance(api, directory, privacy_probe):
    from shared.directory.view import ModelView

    person_ids, queries = directory
    name = sorted(person_ids)[-1]
    # A second person with the same photos, so each delete has something to hide.
    created = api("POST", "persons", {"name": f"{name} twin"})
    twin = created.json()["personId"]
    added = [api("POST", f"persons/{twin}/{FACES}", data=path.read_bytes()) for path in photos(name)[:-1]]
    face_ids = [response.json()["persistedFaceId"] for response in added]
    assert all(api.finished(response)["status"] == "succeeded" for response in added)
    assert twin in _top(api, queries[name], personIds=["*"])
    other_instance = ModelView(MODEL)
    other_instance.current()  # warmed up before the deletes, as a running instance would be

    for face_id in face_ids[:-1]:
        assert api.finished(api("DELETE", f"persons/{twin}/recognitionModels/{MODEL}/persistedfaces/{face_id}"))[
            "status"] == "succeeded"
    listed = api("GET", f"persons/{twin}/recognitionModels/{MODEL}/persistedfaces").json()
    assert listed["persistedFaceIds"] == face_ids[-1:]
    for state in (other_instance.current(), ModelView(MODEL).current()):
        hidden = set(state.removed_faces)
        assert set(face_ids[:-1]) <= hidden

    deleted = api("DELETE", f"persons/{twin}")
    assert deleted.status_code == 202
    assert twin not in _top(api, queries[name], personIds=["*"])
    assert twin not in _top(api, queries[name], personIds=[twin, person_ids[name]])
    for state in (other_instance.current(), ModelView(MODEL).current()):
        found = [person for person, _ in state.search_persons(_vector(queries[name]), 10, None)]
        assert twin not in found and person_ids[name] in found
    assert error_code(api("GET", f"persons/{twin}")) == "PersonNotFound"
    assert api.finished(deleted)["status"] == "succeeded"


def _vector(face_id: str):
    from shared.storage.faceids import FaceIdStore

    return FaceIdStore().get(face_id).vector

"""The PostgreSQL engine through the HTTP API: a delete is in force for another process at once,
an outage answers 503 (Retry-After, Azure's envelope) and half-writes nothing, a restart under
a writing client keeps every 2xx, the sweep reconciles both ways, and LargePersonGroups keep
Azure's train-before-identify semantics."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid

from directory_support import error_code
from emulator import REPO_ROOT
from gallery_support import drain_training, photos
from reliability_support import eventually
from svc_support import all_people

MODEL = "recognition_01"
FACES = f"recognitionModels/{MODEL}/persistedfaces"


def _enrol(api, name: str, paths) -> tuple[str, list[str]]:
    created = api("POST", "persons", {"name": name})
    person_id = created.json()["personId"]
    face_ids = []
    for path in paths:
        added = api("POST", f"persons/{person_id}/{FACES}", data=path.read_bytes())
        assert api.finished(added)["status"] == "succeeded", added.text
        face_ids.append(added.json()["persistedFaceId"])
    return person_id, face_ids


def _top(api, query: str, **target) -> list[str]:
    response = api("POST", "identify", {"faceIds": [query], "maxNumOfCandidatesReturned": 10,
                                        "confidenceThreshold": 0.0, **target})
    assert response.status_code == 200, response.text
    return [candidate["personId"] for candidate in response.json()[0]["candidates"]]


def _vector(face_id: str) -> list[float]:
    from shared.storage.faceids import FaceIdStore

    return [float(x) for x in FaceIdStore().get(face_id).vector]


_OTHER_INSTANCE = """
import json, sys
from shared.postgres import vectors
vector = json.loads(sys.stdin.readline())
for _ in range(2):
    scope = vectors.Scope(vectors.directory_container(sys.argv[1]), len(vector))
    print(json.dumps([person for person, _ in vectors.nearest_persons(scope, [vector], 10)[0]]), flush=True)
    sys.stdin.readline()
"""


def _audit_clean() -> None:
    from shared.services import postgres_sync

    differences = postgres_sync.compare()
    assert differences.count() == 0, differences.as_json()


def test_a_deleted_person_is_gone_at_once_for_another_process(pg, api, privacy_probe):
    name = all_people()[0]
    for path in photos(name):
        privacy_probe.saw_image(path.read_bytes())
    person_id, _ = _enrol(api, name, photos(name)[:2])
    twin, twin_faces = _enrol(api, f"{name} twin", photos(name)[:2])
    query = api.detect(photos(name)[-1].read_bytes(), MODEL)
    assert {person_id, twin} <= set(_top(api, query, personIds=["*"]))

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    other = subprocess.Popen([sys.executable, "-c", _OTHER_INSTANCE, MODEL], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        other.stdin.write(json.dumps(_vector(query)) + "\n")
        other.stdin.flush()
        assert twin in json.loads(other.stdout.readline())  # warm: connected and searching before the delete
        deleted = api("DELETE", f"persons/{twin}")
        assert deleted.status_code == 202
        other.stdin.write("\n")
        other.stdin.flush()
        found = json.loads(other.stdout.readline())
    finally:
        other.stdin.close()
        other.wait(timeout=30)
    assert twin not in found and person_id in found
    assert twin not in _top(api, query, personIds=["*"])
    assert twin not in _top(api, query, personIds=[twin, person_id])
    assert api.finished(deleted)["status"] == "succeeded"


def test_an_outage_answers_503_and_half_writes_nothing(pg, api, privacy_probe, monkeypatch):
    from shared.postgres import connection

    monkeypatch.setenv("FACE_POSTGRES_TIMEOUT_SECONDS", "1")
    connection.reset()
    name = all_people()[1]
    images = [privacy_probe.saw_image(path.read_bytes()) for path in photos(name)[:3]]
    person_id, face_ids = _enrol(api, name, photos(name)[:1])
    query = api.detect(images[2], MODEL)
    group = "g-" + uuid.uuid4().hex[:10]
    assert api("PUT", f"largepersongroups/{group}", {"name": "outage", "recognitionModel": MODEL},
               version="v1.2").status_code == 200
    member = api("POST", f"largepersongroups/{group}/persons", {"name": name}, version="v1.2").json()["personId"]

    pg.stop()
    try:
        answers = {
            "identify": api("POST", "identify", {"faceIds": [query], "personIds": ["*"]}),
            "add": api("POST", f"persons/{person_id}/{FACES}", data=images[1]),
            "delete": api("DELETE", f"persons/{person_id}"),
            "group add": api("POST", f"largepersongroups/{group}/persons/{member}/persistedfaces",
                             data=images[1], version="v1.2"),
        }
    finally:
        pg.start()
    for what, response in answers.items():
        assert response.status_code == 503, (what, response.status_code, response.text)
        assert error_code(response) == "ServiceUnavailable" and int(response.headers["Retry-After"]) >= 1, what
    # Nothing half-written: the person is whole, with its one face listed and searchable.
    assert api("GET", f"persons/{person_id}").status_code == 200
    assert api("GET", f"persons/{person_id}/{FACES}").json()["persistedFaceIds"] == face_ids
    # The pool reconnects with a back-off after the outage: 503s (with Retry-After) until then.
    back = lambda: api("POST", "identify", {"faceIds": [query], "personIds": ["*"]}).status_code == 200
    assert eventually(back, seconds=30)
    assert _top(api, query, personIds=["*"])[0] == person_id
    listed = api("GET", f"largepersongroups/{group}/persons/{member}", version="v1.2").json()
    assert listed["persistedFaceIds"] == []
    service_sweep(api)
    _audit_clean()


def service_sweep(api) -> None:
    from shared.services.sweep import sweep_expired

    sweep_expired()


def test_a_restart_under_a_writing_client_keeps_every_2xx(pg, api, privacy_probe, monkeypatch):
    from shared.directory import repository
    from shared.postgres import connection, vectors

    monkeypatch.setenv("FACE_POSTGRES_TIMEOUT_SECONDS", "1")
    connection.reset()
    name = all_people()[2]
    images = [privacy_probe.saw_image(path.read_bytes()) for path in photos(name)[:2]]
    person_id, _ = _enrol(api, name, [])
    results: list[tuple[int, str, str]] = []
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            added = api("POST", f"persons/{person_id}/{FACES}", data=images[len(results) % 2])
            status = api.finished(added)["status"] if added.status_code == 202 else ""
            results.append((added.status_code, added.json().get("persistedFaceId", ""), status))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while len(results) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        pg.stop()
        while not any(code == 503 for code, _, _ in results) and time.monotonic() < deadline:
            time.sleep(0.1)  # away until a write has met the outage
        pg.start()
        while sum(code == 202 for code, _, _ in results[-3:]) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        writer.join(timeout=120)
    codes = {code for code, _, _ in results}
    assert codes <= {202, 503}, results
    assert 503 in codes, "no request met the outage"
    kept = {face for code, face, status in results if code == 202 and status == "succeeded"}
    listed = set(repository.find_pack(person_id, MODEL).face_ids)
    searchable = {face for face, owner in vectors.faces_of(vectors.directory_container(MODEL)).items()
                  if owner == person_id}
    assert kept and kept == listed == searchable, (kept, listed, searchable)
    service_sweep(api)
    _audit_clean()


def test_the_sweep_reconciles_both_ways(pg, api, privacy_probe):
    import numpy as np

    from shared.postgres import vectors

    name = all_people()[3]
    for path in photos(name)[:2]:
        privacy_probe.saw_image(path.read_bytes())
    person_id, face_ids = _enrol(api, name, photos(name)[:2])
    container = vectors.directory_container(MODEL)
    orphan = str(uuid.uuid4())
    vectors.forget_faces(container, person_id, [face_ids[0]])  # a vector an outage lost
    vectors.add(container, person_id, [vectors.NewVector(orphan, person_id, np.full(128, 0.01, np.float32))])
    from shared.services import postgres_sync

    differences = postgres_sync.compare()
    assert differences.extra == {container: {orphan: person_id}}
    assert differences.missing == {container: {face_ids[0]: person_id}}
    service_sweep(api)
    _audit_clean()
    assert set(vectors.faces_of(container)) == set(face_ids)


def test_large_person_groups_keep_train_before_identify(pg, api, privacy_probe, monkeypatch):
    names = all_people()[4:6]
    group = "g-" + uuid.uuid4().hex[:10]

    def call(method: str, path: str, body=None, data=None):
        return api(method, f"largepersongroups/{group}{path}", body, data=data, version="v1.2")

    def enrol(name: str) -> str:
        person = call("POST", "/persons", {"name": name}).json()["personId"]
        for path in photos(name)[:2]:
            added = call("POST", f"/persons/{person}/persistedfaces", data=privacy_probe.saw_image(path.read_bytes()))
            assert added.status_code == 200, added.text
        return person

    def identify(query: str) -> list[str]:
        response = api("POST", "identify", {"faceIds": [query], "largePersonGroupId": group,
                                            "maxNumOfCandidatesReturned": 5, "confidenceThreshold": 0.0},
                       version="v1.2")
        assert response.status_code == 200, response.text
        return [candidate["personId"] for candidate in response.json()[0]["candidates"]]

    assert call("PUT", "", {"name": "pg", "recognitionModel": MODEL}).status_code == 200
    first = enrol(names[0])
    query = api.detect(photos(names[0])[-1].read_bytes(), MODEL)
    untrained = api("POST", "identify", {"faceIds": [query], "largePersonGroupId": group}, version="v1.2")
    assert untrained.status_code == 400 and error_code(untrained) == "LargePersonGroupNotTrained"
    assert call("POST", "/train").status_code == 202
    drain_training()
    assert call("GET", "/training").json()["status"] == "succeeded"
    assert identify(query)[0] == first
    twin = enrol(names[0])  # added after the training: searchable after the next one, as in Azure
    assert twin not in identify(query)
    _with_hnsw_only(monkeypatch, lambda: twin not in identify(query) and identify(query)[0] == first)
    assert call("POST", "/train").status_code == 202
    drain_training()
    assert twin in identify(query)
    _with_hnsw_only(monkeypatch, lambda: set(identify(query)[:2]) == {first, twin})
    assert call("DELETE", f"/persons/{twin}").status_code == 200
    assert twin not in identify(query)  # a removal holds at once, without training
    assert call("DELETE", "").status_code == 200
    from shared.postgres import vectors

    assert vectors.own_containers(vectors.containers())[1] == []  # the group's vectors went with it
    _audit_clean()


def _with_hnsw_only(monkeypatch, check) -> None:
    """``check()`` holds when every search walks the HNSW index (the path of large containers)."""
    from shared.postgres import vectors

    with monkeypatch.context() as patch:
        patch.setenv("FACE_POSTGRES_EXACT_FACES", "0")
        patch.setattr(vectors, "_states", {})
        assert check()


def test_rebuild_repopulates_postgres_from_the_table_record(pg, api, privacy_probe):
    import psycopg

    from shared.postgres import vectors
    from shared.services import postgres_sync

    name = all_people()[7]
    images = [privacy_probe.saw_image(path.read_bytes()) for path in photos(name)]
    person_id, _ = _enrol(api, name, photos(name)[:2])
    group = "g-" + uuid.uuid4().hex[:10]
    assert api("PUT", f"largefacelists/{group}", {"name": "rebuild", "recognitionModel": MODEL},
               version="v1.2").status_code == 200
    listed = api("POST", f"largefacelists/{group}/persistedfaces", data=images[0], version="v1.2").json()
    assert api("POST", f"largefacelists/{group}/train", version="v1.2").status_code == 202
    drain_training()
    query = api.detect(images[-1], MODEL)

    def similar() -> list[str]:
        response = api("POST", "findsimilars", {"faceId": query, "largeFaceListId": group}, version="v1.2")
        assert response.status_code == 200, response.text
        return [item["persistedFaceId"] for item in response.json()]

    assert _top(api, query, personIds=["*"])[0] == person_id and similar() == [listed["persistedFaceId"]]
    with psycopg.connect(pg.url, autocommit=True) as conn:  # a new, empty server as far as this prefix goes
        for table in ("face_vectors", "face_owners", "face_removals"):
            conn.execute(f"DELETE FROM {table} WHERE container = ANY(%s)", (sum(vectors.own_containers(
                [row[0] for row in conn.execute(f"SELECT DISTINCT container FROM {table}")]), []),))
    assert _top(api, query, personIds=["*"]) == [] and similar() == []
    assert postgres_sync.main(["rebuild"]) == 0
    assert _top(api, query, personIds=["*"])[0] == person_id and similar() == [listed["persistedFaceId"]]
    _audit_clean()

"""The data inventory routes: numbers against a full scan of the stores, the subject-access
request per personId, erasure through each store's own delete path, and admin-only access."""
from __future__ import annotations

import uuid

import pytest

from inventory_scan import assert_inventory_matches
from studio_support import photos

DIRECTORY = "/face/v1.1-preview.1"


def _sources(inventory: dict) -> dict:
    return {source["name"]: source for source in inventory["sources"]}


@pytest.fixture(scope="module")
def enrolled(admin):
    """A person group with two persons (3 + 2 faces), a large face list with 2 faces, a
    directory person with 2 recognition_04 faces in a dynamic group, a faceId and a session."""
    group = "inv-" + uuid.uuid4().hex[:8]
    admin.ok("PUT", f"/face/v1.2/persongroups/{group}", json={"name": "Inventory group", "recognitionModel": "recognition_04"})
    people = {}
    for name, count in (("obama", 3), ("kit_harington", 2)):
        person_id = admin.ok("POST", f"/face/v1.2/persongroups/{group}/persons", json={"name": name}).json()["personId"]
        for photo in photos(name)[:count]:
            admin.image(f"/face/v1.2/persongroups/{group}/persons/{person_id}/persistedfaces?detectionModel=detection_03", photo)
        people[name] = person_id
    assert admin.trained(f"persongroups/{group}")["status"] == "succeeded"
    face_list = "inv-" + uuid.uuid4().hex[:8]
    admin.ok("PUT", f"/face/v1.2/largefacelists/{face_list}", json={"name": "Inventory list"})
    for photo in photos("alex_lacamoire")[:2]:
        admin.image(f"/face/v1.2/largefacelists/{face_list}/persistedfaces", photo)
    directory_person = admin.ok("POST", f"{DIRECTORY}/persons", json={"name": "Directory person"}).json()["personId"]
    for photo in photos("deepface_person01")[:2]:
        admin.image(f"{DIRECTORY}/persons/{directory_person}/recognitionModels/recognition_04/persistedfaces"
                    "?detectionModel=detection_03", photo)
    dynamic_group = "inv-" + uuid.uuid4().hex[:8]
    admin.ok("PUT", f"{DIRECTORY}/dynamicpersongroups/{dynamic_group}",
             json={"name": "Inventory dynamic group", "addPersonIds": [directory_person]})
    admin.image("/face/v1.2/detect?returnFaceId=true&recognitionModel=recognition_04&detectionModel=detection_03"
                "&faceIdTimeToLive=86400", photos("obama")[3])
    session = admin.ok("POST", "/face/v1.2/detectLiveness-sessions",
                       json={"livenessOperationMode": "Passive", "deviceCorrelationId": str(uuid.uuid4())}).json()
    return {"group": group, "people": people, "face_list": face_list, "directory_person": directory_person,
            "dynamic_group": dynamic_group, "session": session["sessionId"]}


def test_inventory_matches_a_full_scan_of_the_stores(admin, enrolled):
    answer = admin.ok("GET", "/inventory")
    assert answer.headers["Cache-Control"] == "no-store"
    inventory = answer.json()
    assert_inventory_matches(inventory)
    sources = _sources(inventory)
    containers = {(c["kind"], c["containerId"]): c for c in sources["galleries"]["containers"]}
    group = containers[("PersonGroup", enrolled["group"])]
    assert (group["persons"], group["faces"], group["templates"], group["recognitionModel"]) == \
        (2, 5, 5, "recognition_04")
    assert group["trainingStatus"] == "succeeded"
    assert containers[("LargeFaceList", enrolled["face_list"])]["faces"] == 2
    assert sources["directory"]["byRecognitionModel"]["recognition_04"]["faces"] >= 2
    assert sources["faceIds"]["live"] >= 1 and sources["faceIds"]["lastExpiry"] > inventory["generatedDateTime"]
    session = next(s for s in sources["livenessSessions"]["sessions"] if s["sessionId"] == enrolled["session"])
    assert session["deletionDateTime"] > session["createdDateTime"] and session["mode"] == "Passive"
    assert any(owner["owner"] == f"PersonGroup/{enrolled['group']}" for owner in sources["snapshots"]["owners"])
    assert inventory["templates"] == sum(source.get("templates") or 0 for source in inventory["sources"])


def test_subject_access_request_lists_metadata_only(admin, enrolled):
    person_id = enrolled["people"]["obama"]
    holdings = admin.ok("GET", f"/inventory/persons/{person_id}").json()["holdings"]
    assert [(h["source"], h["kind"], h["containerId"], h["name"], h["templates"]) for h in holdings] == \
        [("galleries", "PersonGroup", enrolled["group"], "obama", 3)]
    assert {face["recognitionModel"] for face in holdings[0]["persistedFaces"]} == {"recognition_04"}
    assert "Template" not in str(holdings)
    directory = admin.ok("GET", f"/inventory/persons/{enrolled['directory_person']}").json()["holdings"]
    assert directory[0]["kind"] == "PersonDirectory" and directory[0]["templates"] == 2
    assert directory[0]["dynamicPersonGroupIds"] == [enrolled["dynamic_group"]]
    nobody = admin.ok("GET", f"/inventory/persons/{uuid.uuid4()}").json()
    assert nobody["holdings"] == []


def test_erase_deletes_everywhere_through_the_existing_deletes(admin, enrolled):
    group, person_id = enrolled["group"], enrolled["people"]["obama"]
    erased = admin.ok("DELETE", f"/inventory/persons/{person_id}").json()
    assert [(e["kind"], e["containerId"]) for e in erased["erased"]] == [("PersonGroup", group)]
    assert erased["remaining"] == []
    assert admin.call("GET", f"/face/v1.2/persongroups/{group}/persons/{person_id}").status_code == 404
    # The trained snapshot still holds the templates; the delete's tombstones hide them at once.
    probe = admin.image("/face/v1.2/detect?returnFaceId=true&recognitionModel=recognition_04&detectionModel=detection_03",
                        photos("obama")[3]).json()[0]["faceId"]
    found = admin.ok("POST", "/face/v1.2/identify", json={"faceIds": [probe], "personGroupId": group}).json()
    assert all(c["personId"] != person_id for c in found[0]["candidates"])
    directory_person = enrolled["directory_person"]
    erased = admin.ok("DELETE", f"/inventory/persons/{directory_person}").json()
    assert erased["erased"][0]["kind"] == "PersonDirectory" and erased["remaining"] == []
    assert admin.call("GET", f"{DIRECTORY}/persons/{directory_person}").status_code == 404
    members = admin.ok("GET", f"{DIRECTORY}/dynamicpersongroups/{enrolled['dynamic_group']}/persons").json()
    assert directory_person not in members["personIds"]
    assert_inventory_matches(admin.ok("GET", "/inventory").json())
    again = admin.call("DELETE", f"/inventory/persons/{person_id}")
    assert again.status_code == 404 and again.json()["error"]["code"] == "PersonNotFound"


def test_inventory_is_admin_only_with_azure_envelopes(recognizer, admin, service):
    for method, path in (("GET", "/inventory"), ("GET", f"/inventory/persons/{uuid.uuid4()}"),
                         ("DELETE", f"/inventory/persons/{uuid.uuid4()}")):
        refused = recognizer.call(method, path)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "PermissionDenied"
        assert admin.__class__(service.url, None).call(method, path).status_code == 401
    bad = admin.call("GET", "/inventory/persons/not-a-uuid")
    assert bad.status_code == 404 and bad.json()["error"]["code"] == "PersonNotFound"


def test_qr_codes_are_svg_made_here(recognizer, service):
    link = f"{service.url}/liveness#authToken={'t' * 600}&kind=detectLiveness"
    answer = recognizer.call("POST", "/studio/qr", json={"text": link})
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/svg+xml"
    assert answer.content.startswith(b"<svg") and b"<path" in answer.content
    for bad in ({}, {"text": ""}, {"text": 5}, {"text": "x" * 2049}, {"text": "漢😀" * 1000}):
        refused = recognizer.call("POST", "/studio/qr", json=bad)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "BadArgument", bad
    assert recognizer.call("GET", "/studio/me").json() == {"role": "recognizer"}
    assert recognizer.__class__(service.url, None).call("POST", "/studio/qr", json={"text": "x"}).status_code == 401


class _TableSource:
    """A store added later (as abuse-monitoring templates or a PostgreSQL engine's vectors will
    be): rows of its own table, one per template, keyed by personId."""

    name, title = "laterStore", "A store added later"

    def __init__(self, table):
        self.table = table

    def summary(self) -> dict:
        rows = list(self.table.query("PartitionKey ge @low", {"low": ""}))
        return {"templates": len(rows), "lastExpiry": max((row["ExpiresAt"] for row in rows), default=None)}

    def holdings(self, person_id: str) -> list[dict]:
        return [{"source": self.name, "kind": "Later", "personId": person_id, "templates": len(self._rows(person_id))}
                for _ in self._rows(person_id)[:1]]

    def erase(self, person_id: str) -> list[dict]:
        held = self.holdings(person_id)
        self.table.delete_rows(person_id, [row["RowKey"] for row in self._rows(person_id)])
        return held

    def _rows(self, person_id: str) -> list[dict]:
        return list(self.table.partition(person_id))


def test_a_store_added_later_is_one_more_source(admin, monkeypatch):
    from shared.inventory import registry
    from shared.storage.tables import Table

    table, person_id = Table("latertemplates"), str(uuid.uuid4())
    for index in range(2):
        table.insert({"PartitionKey": person_id, "RowKey": str(index), "ExpiresAt": "2030-01-01T00:00:00.000Z"})
    monkeypatch.setattr(registry, "_SOURCES", registry.sources())
    registry.register(_TableSource(table))
    inventory = admin.ok("GET", "/inventory").json()
    assert _sources(inventory)["laterStore"]["templates"] == 2
    assert [h["source"] for h in admin.ok("GET", f"/inventory/persons/{person_id}").json()["holdings"]] == ["laterStore"]
    erased = admin.ok("DELETE", f"/inventory/persons/{person_id}").json()
    assert erased["erased"][0]["templates"] == 2 and erased["remaining"] == []
    assert _sources(admin.ok("GET", "/inventory").json())["laterStore"]["templates"] == 0


def test_directory_counts_rows_start_from_the_packs_already_there(admin):
    """A partition written before counts rows existed: the inventory counts its packs, and the
    first pack write there creates the row from them, in the same transaction."""
    import numpy as np

    from shared.directory import facecounts, repository
    from shared.directory.records import FacePack, PackedFace
    from shared.engine.types import Template

    table = repository.faces()
    partition = next(f"{value:02x}" for value in range(256) if table.get(f"{value:02x}", facecounts.COUNTS) is None)
    old, new = (partition + str(uuid.uuid4())[2:] for _ in range(2))
    face = lambda: PackedFace(str(uuid.uuid4()), None, Template(np.ones(128, np.float32), "sface", "1", "recognition_03"))  # noqa: E731
    table.insert(repository.pack_to_row(FacePack(old, "recognition_03", [face(), face()])))  # as an old version wrote it
    try:
        assert_inventory_matches(admin.ok("GET", "/inventory").json())
        repository.change_pack(new, "recognition_03", lambda pack: FacePack(new, "recognition_03", [face()]), create=True)
        assert table.get(partition, facecounts.COUNTS)["recognition_03"] == 3
        assert_inventory_matches(admin.ok("GET", "/inventory").json())
    finally:
        for person_id in (old, new):
            repository.delete_packs(person_id)
    assert table.get(partition, facecounts.COUNTS)["recognition_03"] == 0
    assert_inventory_matches(admin.ok("GET", "/inventory").json())

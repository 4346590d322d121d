"""A full scan of every store, written independently of shared/inventory, for checking the
inventory's numbers: every row of every table read whole (templates included, then ignored),
every blob listed. Run in the test process, whose environment names the service's storage."""
from __future__ import annotations

import json
from collections import Counter

from shared import clock
from shared.galleries.kinds import KINDS
from shared.storage.blobs import BlobStore
from shared.storage.tables import Table


def _all(table: str) -> list[dict]:
    return list(Table(table).query("PartitionKey ge @low", {"low": ""}))


def galleries() -> dict[tuple[str, str], dict]:
    """(kind label, container id) -> persons (rows), faces (rows), recognition model."""
    persons = Counter(row["PartitionKey"] for row in _all("gallerypersons"))
    faces = Counter(row["PartitionKey"] for row in _all("galleryfaces"))
    found = {}
    for row in _all("galleries"):
        if row["RowKey"].startswith("~") or row["PartitionKey"] not in KINDS:
            continue  # the kind's counts row and intents; other rows kept in the table (the sweeps' claims)
        kind = KINDS[row["PartitionKey"]]
        found[(kind.label, row["RowKey"])] = {
            "persons": persons[row["Incarnation"]] if kind.has_persons else None,
            "faces": faces[row["Incarnation"]], "recognitionModel": row["RecognitionModel"]}
    return found


def directory() -> dict:
    faces: Counter = Counter()
    for row in _all("dirfaces"):
        if not row["RowKey"].startswith("~"):  # the partition's counts row
            faces[row["RowKey"].split("_", 1)[1]] += len(json.loads(row["FaceIds"]))
    return {"persons": len(_all("dirpersons")), "dynamicPersonGroups": len(_all("dirgroups")),
            "faces": {model: count for model, count in faces.items() if count}}


def face_ids() -> int:
    now = clock.now()
    return sum(1 for row in _all("faceids") if row["ExpiresAt"] > now)


def liveness_sessions() -> set[str]:
    return {row["PartitionKey"] for row in _all("livenesssessions") if row["RowKey"] == "session"}


def abuse_observations() -> int:
    now = clock.now()
    return sum(1 for row in _all("livenessabuse") if row["ExpiresAt"] > now)


def snapshot_blobs() -> tuple[int, int]:
    sizes = [size for _, size in BlobStore("snapshots").sizes()]
    return len(sizes), sum(sizes)


def assert_inventory_matches(inventory: dict) -> None:
    """Every number of an inventory (GET /inventory) equals the full scan's."""
    sources = {source["name"]: source for source in inventory["sources"]}
    listed = {(c["kind"], c["containerId"]): {"persons": c["persons"], "faces": c["faces"],
                                              "recognitionModel": c["recognitionModel"]}
              for c in sources["galleries"]["containers"]}
    assert listed == galleries()
    assert all(c["templates"] == c["faces"] for c in sources["galleries"]["containers"])
    scanned = directory()
    held = sources["directory"]
    assert held["persons"] == scanned["persons"]
    assert held["dynamicPersonGroups"] == scanned["dynamicPersonGroups"]
    assert {model: entry["faces"] for model, entry in held["byRecognitionModel"].items() if entry["faces"]} \
        == scanned["faces"]
    assert sources["faceIds"]["live"] == face_ids()
    assert {s["sessionId"] for s in sources["livenessSessions"]["sessions"]} == liveness_sessions()
    assert (sources["snapshots"]["blobs"], sources["snapshots"]["bytes"]) == snapshot_blobs()
    assert sources["abuseMonitoring"]["templates"] == abuse_observations()

"""PersonDirectory persons and their faces in Azure Tables.

Tables (each name gets FACE_STORAGE_PREFIX):
- ``dirpersons``: PartitionKey = the personId's first two hex digits, RowKey = personId; Name,
  UserData, Created. PartitionKey is a prefix of RowKey, so a scan returns persons in id order
  (start/top paging) while writes spread over 256 partitions.
- ``dirfaces``: one row per person and recognition model, PartitionKey = the personId's first
  two hex digits, RowKey = ``<personId>_<recognitionModel>``: the face ids in add order
  (FaceIds), their userData (UserData0.., JSON) and their templates (Template0..), each sealed
  and bound to the row and its face id (packing.py). The row is the source of truth for the
  person's faces of that model, changed only by ETag-matched replaces (the 248 limit holds
  under concurrent adds). No image is ever stored. After the packs of each partition, its
  ``~counts`` row: faces per recognition model, changed in every pack write's transaction
  (facecounts.py).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

from shared.clock import timestamp
from shared.directory import facecounts, packing
from shared.directory.records import DirectoryPerson, FacePack, PackedFace
from shared.galleries.repository import person_not_found
from shared.storage.rows import delete_as_read, etag_of, mutate, read, settle
from shared.storage.tables import BATCH_LIMIT, Table, delete_op, replace_op
from shared.storage.templates import row_location

PERSONS, FACES = "dirpersons", "dirfaces"


def persons() -> Table:
    return Table(PERSONS)


def faces() -> Table:
    return Table(FACES)


def partition(person_id: str) -> str:
    return person_id[:2]


# ---------------------------------------------------------------- persons

def person_to_row(person: DirectoryPerson) -> dict:
    row = {"PartitionKey": partition(person.person_id), "RowKey": person.person_id, "Name": person.name}
    if person.user_data is not None:
        row["UserData"] = person.user_data
    return row


def person_from_row(row: dict) -> DirectoryPerson:
    return DirectoryPerson(row["RowKey"], row["Name"], row.get("UserData"))


def find_person(person_id: str) -> DirectoryPerson | None:
    row = persons().get(partition(person_id), person_id)
    return None if row is None else person_from_row(row)


def get_person(person_id: str) -> DirectoryPerson:
    return read(persons(), partition(person_id), person_id, person_from_row, lambda: person_not_found(person_id))


def update_person(person_id: str, change: Callable[[DirectoryPerson], DirectoryPerson]) -> DirectoryPerson:
    """Read-modify-write under an ETag match; the row's other columns (Created) are kept."""
    row = mutate(persons(), partition(person_id), person_id,
                 lambda current: {**current, **person_to_row(change(person_from_row(current)))},
                 lambda: person_not_found(person_id))
    return person_from_row(row)


def delete_person(person_id: str) -> DirectoryPerson:
    """Delete the person row as last read: of two racing deletes only one gets the person."""
    row = delete_as_read(persons(), partition(person_id), person_id, lambda _: None,
                         lambda: person_not_found(person_id))
    return person_from_row(row)


def list_persons(start: str, top: int) -> list[DirectoryPerson]:
    rows = persons().query("PartitionKey ge @pk and RowKey gt @start", {"pk": start[:2], "start": start})
    return [person_from_row(row) for row, _ in zip(rows, range(top))]


def existing_persons(person_ids: Iterable[str]) -> set[str]:
    """Which of ``person_ids`` have a row (point reads in parallel)."""
    rows = persons().get_each((partition(person_id), person_id) for person_id in person_ids)
    return {row["RowKey"] for row in rows}


# ---------------------------------------------------------------- face packs

def pack_key(person_id: str, model: str) -> str:
    return f"{person_id}_{model}"


def _where(person_id: str, model: str) -> str:
    return row_location(faces().name, partition(person_id), pack_key(person_id, model))


def pack_to_row(pack: FacePack) -> dict:
    row = {"PartitionKey": partition(pack.person_id), "RowKey": pack_key(pack.person_id, pack.model),
           "FaceIds": json.dumps(pack.face_ids)}
    packing.put_text(row, "UserData", json.dumps({f.face_id: f.user_data for f in pack.faces if f.user_data}))
    packing.put_templates(row, "Template", _where(pack.person_id, pack.model),
                          [(face.face_id, face.template) for face in pack.faces])
    return row


def pack_from_row(row: dict) -> FacePack:
    person_id, model = row["RowKey"].split("_", 1)  # a UUID has no "_"; a model name has
    face_ids = json.loads(row["FaceIds"])
    user_data = json.loads(packing.text(row, "UserData") or "{}")
    templates = packing.templates(row, "Template", _where(person_id, model), face_ids)
    return FacePack(person_id, model, [PackedFace(face_id, user_data.get(face_id), template)
                                       for face_id, template in zip(face_ids, templates)])


def find_pack(person_id: str, model: str) -> FacePack:
    """The person's faces of ``model`` (an empty pack when there are none)."""
    row = faces().get(partition(person_id), pack_key(person_id, model))
    return FacePack(person_id, model) if row is None else pack_from_row(row)


def change_pack(person_id: str, model: str, change: Callable[[FacePack], FacePack], create: bool = False) -> bool:
    """Read-modify-write of a face pack under an ETag match; with ``create``, a missing pack is
    created (the person's first face of the model; a racing create makes this one read again).
    False when there is no pack to change."""
    table, key, found = faces(), pack_key(person_id, model), [True]

    def build() -> list[tuple]:
        row = table.get(partition(person_id), key)
        if row is not None:
            pack = pack_from_row(row)
            before = len(pack.faces)
            changed = change(pack)
            return [replace_op(pack_to_row(changed), etag_of(row)),
                    *facecounts.step(table, partition(person_id), {model: len(changed.faces) - before})]
        found[0] = create
        if not create:
            return []
        changed = change(FacePack(person_id, model))
        return [("create", pack_to_row(changed)), *facecounts.step(table, partition(person_id), {model: len(changed.faces)})]

    settle(table, build)
    return found[0]


def insert_rows(rows: list[dict], table: Table) -> None:
    """New rows, one transaction per partition and 100 rows."""
    for _, group in _by_partition(rows):
        for start in range(0, len(group), BATCH_LIMIT):
            table.transact([("create", row) for row in group[start:start + BATCH_LIMIT]])


def insert_people(people: list[DirectoryPerson], packs: list[FacePack]) -> None:
    """New persons with their first faces: person rows first (created time), then packs, each
    transaction with its partition's face counts (facecounts.py)."""
    created = timestamp()
    insert_rows([{**person_to_row(person), "Created": created} for person in people], persons())
    table = faces()
    for key, group in _by_partition(pack_to_row(pack) for pack in packs):
        for start in range(0, len(group), BATCH_LIMIT - 1):  # one operation left for the counts row
            chunk = group[start:start + BATCH_LIMIT - 1]
            settle(table, lambda chunk=chunk, key=key: [("create", row) for row in chunk]
                   + facecounts.step(table, key, facecounts.counted(chunk)))


def delete_packs(person_id: str) -> None:
    """Every face of the person, under every recognition model (its packs share a key prefix),
    with its partition's face counts in the same transaction."""
    table, key = faces(), partition(person_id)

    def build() -> list[tuple]:
        rows = list(table.query("PartitionKey eq @pk and RowKey gt @low and RowKey lt @high",
                                {"pk": key, "low": f"{person_id}_", "high": f"{person_id}`"},
                                select=["RowKey", "FaceIds"]))
        removed = {model: -faces for model, faces in facecounts.counted(rows).items()}
        return [delete_op(key, row["RowKey"], etag_of(row)) for row in rows] + facecounts.step(table, key, removed)

    settle(table, build)


def _by_partition(rows: Iterable[dict]) -> Iterator[tuple[str, list[dict]]]:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["PartitionKey"], []).append(row)
    return iter(groups.items())

"""PersonDirectory persons and faces in Azure Tables.

Tables (each name gets FACE_STORAGE_PREFIX):
- ``dirpersons``: PartitionKey = the personId's first two hex digits, RowKey = personId; Name,
  UserData, Created, and one column per recognition model holding that model's
  persistedFaceIds (JSON, add order): the source of truth for a person's faces, changed only by
  ETag-matched replaces. PartitionKey is a prefix of RowKey, so a scan returns persons in id
  order (start/top paging) while writes spread over 256 partitions.
- ``dirfaces``: PartitionKey = the personId's first two hex digits, RowKey =
  ``<personId>_<persistedFaceId>``; PersonId, UserData and the template, sealed by the storage
  codec and bound to the row (the template columns carry the recognition model). A person's
  faces are one key range; no image is ever stored.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

from shared.clock import timestamp
from shared.directory.records import DirectoryPerson
from shared.engine.types import RECOGNITION_MODELS, Template
from shared.galleries.records import PersistedFace
from shared.galleries.repository import face_not_found, person_not_found
from shared.galleries.rows import delete_as_read, mutate, read
from shared.storage.tables import BATCH_LIMIT, Table
from shared.storage.templates import RECOGNITION_MODEL, row_location, template_columns, template_from_columns

PERSONS, FACES = "dirpersons", "dirfaces"


def persons() -> Table:
    return Table(PERSONS)


def faces() -> Table:
    return Table(FACES)


def partition(person_id: str) -> str:
    return person_id[:2]


# ---------------------------------------------------------------- persons

def _faces_column(model: str) -> str:
    return f"Faces_{model}"


def person_to_row(person: DirectoryPerson, created: str | None = None) -> dict:
    row = {"PartitionKey": partition(person.person_id), "RowKey": person.person_id, "Name": person.name}
    if created is not None:
        row["Created"] = created
    if person.user_data is not None:
        row["UserData"] = person.user_data
    for model, face_ids in person.faces.items():
        row[_faces_column(model)] = json.dumps(face_ids)
    return row


def person_from_row(row: dict) -> DirectoryPerson:
    faces_by_model = {model: json.loads(row[_faces_column(model)]) for model in RECOGNITION_MODELS
                      if row.get(_faces_column(model))}
    return DirectoryPerson(row["RowKey"], row["Name"], row.get("UserData"), faces_by_model)


def find_person(person_id: str) -> DirectoryPerson | None:
    row = persons().get(partition(person_id), person_id)
    return None if row is None else person_from_row(row)


def get_person(person_id: str) -> DirectoryPerson:
    return read(persons(), partition(person_id), person_id, person_from_row, lambda: person_not_found(person_id))


def insert_persons(people: list[DirectoryPerson]) -> None:
    """New person rows, one transaction per partition and 100 rows."""
    created, table = timestamp(), persons()
    for key, rows in _by_partition(person_to_row(person, created) for person in people):
        for start in range(0, len(rows), BATCH_LIMIT):
            table.transact([("create", row) for row in rows[start:start + BATCH_LIMIT]])


def update_person(person_id: str, change: Callable[[DirectoryPerson], DirectoryPerson]) -> DirectoryPerson:
    """Read-modify-write under an ETag match; the row's other columns (Created) are kept."""
    row = mutate(persons(), partition(person_id), person_id,
                 lambda current: {**current, **person_to_row(change(person_from_row(current)))},
                 lambda: person_not_found(person_id))
    return person_from_row(row)


def delete_person(person_id: str, before: Callable[[DirectoryPerson], None]) -> DirectoryPerson:
    """Delete the person row as last read (ETag match), after ``before`` ran on that read."""
    row = delete_as_read(persons(), partition(person_id), person_id, lambda read: before(person_from_row(read)),
                         lambda: person_not_found(person_id))
    return person_from_row(row)


def list_persons(start: str, top: int) -> list[DirectoryPerson]:
    rows = persons().query("PartitionKey ge @pk and RowKey gt @start", {"pk": start[:2], "start": start})
    return [person_from_row(row) for row, _ in zip(rows, range(top))]


def existing_persons(person_ids: Iterable[str]) -> set[str]:
    """Which of ``person_ids`` have a row (point reads in parallel)."""
    found = set()
    for key, ids in _by_partition(person_ids, key=partition):
        found.update(row["RowKey"] for row in persons().get_many(key, ids))
    return found


# ---------------------------------------------------------------- faces

def face_key(person_id: str, face_id: str) -> str:
    return f"{person_id}_{face_id}"


def face_row(face: PersistedFace, template: Template) -> dict:
    key = face_key(face.person_id, face.face_id)
    row = {"PartitionKey": partition(face.person_id), "RowKey": key, "PersonId": face.person_id}
    if face.user_data is not None:
        row["UserData"] = face.user_data
    row.update(template_columns(template, row_location(faces().name, row["PartitionKey"], key)))
    return row


def _face_from_row(row: dict) -> PersistedFace:
    return PersistedFace(face_id=row["RowKey"].split("_", 1)[1], person_id=row["PersonId"],
                         user_data=row.get("UserData"))


def insert_face_rows(rows: list[dict]) -> None:
    """New face rows (from ``face_row``), one transaction per partition and 100 rows."""
    table = faces()
    for _, group in _by_partition(rows):
        for start in range(0, len(group), BATCH_LIMIT):
            table.transact([("create", row) for row in group[start:start + BATCH_LIMIT]])


def get_face(person_id: str, face_id: str) -> PersistedFace:
    return read(faces(), partition(person_id), face_key(person_id, face_id), _face_from_row,
                lambda: face_not_found(face_id))


def update_face(person_id: str, face_id: str, change: Callable[[PersistedFace], PersistedFace]) -> None:
    def apply(row: dict) -> dict:
        face = change(_face_from_row(row))
        if face.user_data is not None:
            row["UserData"] = face.user_data
        return row

    mutate(faces(), partition(person_id), face_key(person_id, face_id), apply, lambda: face_not_found(face_id))


def delete_faces(person_id: str, face_ids: Iterable[str]) -> None:
    faces().delete_rows(partition(person_id), [face_key(person_id, face_id) for face_id in face_ids])


def _person_range(person_id: str) -> tuple[str, dict]:
    # "`" follows "_": the range holds exactly the keys "<personId>_..."
    return ("PartitionKey eq @pk and RowKey gt @low and RowKey lt @high",
            {"pk": partition(person_id), "low": f"{person_id}_", "high": f"{person_id}`"})


def delete_all_faces(person_id: str) -> int:
    """Every face row of the person, whatever lists it (a scan of the person's key range)."""
    query, parameters = _person_range(person_id)
    return faces().delete_matching(query, parameters)


def templates_of(person_id: str, model: str, face_ids: list[str]) -> list[Template]:
    """The opened templates of the person's listed faces of ``model``: one range query."""
    query, parameters = _person_range(person_id)
    wanted = set(face_ids)
    rows = faces().query(f"{query} and {RECOGNITION_MODEL} eq @model", {**parameters, "model": model})
    return [template_from_columns(row, row_location(faces().name, row["PartitionKey"], row["RowKey"]))
            for row in rows if _face_from_row(row).face_id in wanted]


def existing_faces(faces_by_person: Iterable[tuple[str, str]]) -> set[str]:
    """Which of the (personId, persistedFaceId) pairs still have a face row."""
    found = set()
    keys = (face_key(person_id, face_id) for person_id, face_id in faces_by_person)
    for key, row_keys in _by_partition(keys, key=lambda row_key: row_key[:2]):
        found.update(row["RowKey"].split("_", 1)[1] for row in faces().get_many(key, row_keys))
    return found


def _by_partition(items: Iterable, key: Callable = lambda row: row["PartitionKey"]) -> Iterator[tuple[str, list]]:
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return iter(groups.items())

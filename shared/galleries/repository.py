"""Gallery records in Azure Tables.

Tables (each name gets FACE_STORAGE_PREFIX):
- ``galleries``: one row per container (PartitionKey = kind, RowKey = container id, so a
  partition scan lists a kind in ID order); in the same partition, after every container id
  (``~`` sorts last), the kind's counts row and the intents of changes under way
  (shared.storage.intents), so both change in one transaction with the container rows.
- ``gallerypersons``: PartitionKey = container incarnation, RowKey = personId.
- ``galleryfaces``: PartitionKey = container incarnation, RowKey = persistedFaceId; holds the
  sealed template, never the image.
- ``gallerytombs``: PartitionKey = "<kind>-<container id>", RowKey = a deleted person or face id
  that the published snapshot may still contain; searches drop those ids until a training
  publishes a snapshot without them.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from shared.errors import FaceApiError, NotFound
from shared.galleries.kinds import ContainerKind
from shared.galleries.records import LEGACY_EMBEDDER, Container, PersistedFace, Person
from shared.storage.rows import bounded, delete_as_read, etag_of, mutate, read
from shared.engine.types import Template
from shared.galleries.training_status import TrainingState
from shared.storage.tables import BATCH_LIMIT, EntityExists, Table, delete_op, replace_op
from shared.storage.templates import row_location, template_columns, template_from_columns

CONTAINERS, PERSONS, FACES, TOMBS = "galleries", "gallerypersons", "galleryfaces", "gallerytombs"


def containers() -> Table:
    return Table(CONTAINERS)


def persons() -> Table:
    return Table(PERSONS)


def faces() -> Table:
    return Table(FACES)


def tombs() -> Table:
    return Table(TOMBS)


# ---------------------------------------------------------------- per-kind counts

COUNTS = "~counts"  # RowKey of a kind's counts row: after every container id
_IDS_END = "~"  # container ids sort before this


@dataclass(frozen=True)
class KindCounts:
    """How many containers of a kind exist and how many persons they hold in all (the
    subscription-wide limits), on one row beside the container rows."""

    kind: ContainerKind
    containers: int
    persons: int
    etag: str

    def change(self, containers: int = 0, persons: int = 0, container_limit: int | None = None,
               person_limit: int | None = None) -> tuple:
        """The transaction operation applying the deltas; QuotaExceeded over a limit."""
        row = {"PartitionKey": self.kind.key, "RowKey": COUNTS,
               "Containers": bounded(self.containers, containers, container_limit, f"{self.kind.display}s"),
               "Persons": bounded(self.persons, persons, person_limit, "persons")}
        return replace_op(row, self.etag)


def kind_counts(kind: ContainerKind) -> KindCounts:
    row = containers().get(kind.key, COUNTS)
    if row is None:
        row = _first_counts(kind)
    return KindCounts(kind, int(row["Containers"]), int(row["Persons"]), etag_of(row))


def _first_counts(kind: ContainerKind) -> dict:
    """The counts row on first use: counted from the container rows (none yet in a fresh
    account). No container is created or deleted without this row, so the count is exact."""
    rows = list(containers().query("PartitionKey eq @pk and RowKey lt @end", {"pk": kind.key, "end": _IDS_END},
                                   select=["PersonCount"]))
    try:
        containers().insert({"PartitionKey": kind.key, "RowKey": COUNTS, "Containers": len(rows),
                             "Persons": sum(int(row.get("PersonCount") or 0) for row in rows)})
    except EntityExists:
        pass  # another request counted first
    return containers().get(kind.key, COUNTS)


# ---------------------------------------------------------------- containers

def container_not_found(kind: ContainerKind, container_id: str) -> FaceApiError:
    return NotFound(f"{kind.label} '{container_id}' is not found.", code=kind.not_found_code)


def container_to_row(c: Container) -> dict:
    state = c.training
    row = {
        "PartitionKey": c.kind.key, "RowKey": c.container_id, "Name": c.name,
        "RecognitionModel": c.recognition_model, "Incarnation": c.incarnation, "Created": c.created,
        "FaceCount": c.face_count, "PersonCount": c.person_count, "Generation": c.generation,
        "Snapshot": c.snapshot, "Embedder": c.embedder, "TrainOperation": c.training_operation,
    }
    if c.user_data is not None:
        row["UserData"] = c.user_data
    if state is not None:
        row.update({"TrainStatus": state.status, "TrainAction": state.last_action or "",
                    "TrainSuccess": state.last_success or "", "TrainMessage": state.message or ""})
    return row


def container_from_row(kind: ContainerKind, row: dict) -> Container:
    state = None
    if row.get("TrainStatus"):
        state = TrainingState(row["TrainStatus"], row["Created"], row.get("TrainAction") or None,
                              row.get("TrainSuccess") or None, row.get("TrainMessage") or None)
    return Container(
        kind=kind, container_id=row["RowKey"], name=row["Name"], user_data=row.get("UserData"),
        recognition_model=row["RecognitionModel"], incarnation=row["Incarnation"], created=row["Created"],
        face_count=int(row.get("FaceCount", 0)), person_count=int(row.get("PersonCount", 0)),
        training=state, generation=int(row.get("Generation", 0)), snapshot=row.get("Snapshot", ""),
        training_operation=row.get("TrainOperation", ""), version=getattr(row, "metadata", {}).get("etag", ""),
        embedder=row.get("Embedder") or LEGACY_EMBEDDER,
    )


def find_container(kind: ContainerKind, container_id: str) -> Container | None:
    row = containers().get(kind.key, container_id)
    return None if row is None else container_from_row(kind, row)


def get_container(kind: ContainerKind, container_id: str) -> Container:
    found = find_container(kind, container_id)
    if found is None:
        raise container_not_found(kind, container_id)
    return found


def update_container(kind: ContainerKind, container_id: str, change) -> Container:
    """Read-modify-write of a container record; ``change(Container) -> Container``."""
    row = mutate(containers(), kind.key, container_id,
                 lambda row: container_to_row(change(container_from_row(kind, row))),
                 lambda: container_not_found(kind, container_id))
    return container_from_row(kind, row)


def update_same_container(container: Container, change) -> Container:
    """``update_container``, but 404 if the container was deleted (and maybe created again
    under the same id) since ``container`` was read: a count reserved for a write into its
    incarnation must not land on a successor."""
    def guarded(current: Container) -> Container:
        if current.incarnation != container.incarnation:
            raise container_not_found(container.kind, container.container_id)
        return change(current)

    return update_container(container.kind, container.container_id, guarded)


def confirm_container(container: Container) -> None:
    """404 unless ``container`` still exists as the same incarnation.

    Called right after writing a row under the incarnation. A container delete removes the
    container row before it scans the incarnation's rows, so if this read still sees the
    container, the delete's scan will see (and remove) the row just written; if it does not,
    the writer must remove the row itself, as nothing else will.
    """
    current = find_container(container.kind, container.container_id)
    if current is None or current.incarnation != container.incarnation:
        raise container_not_found(container.kind, container.container_id)


def container_change(container: Container) -> tuple:
    """The transaction operation writing ``container`` if its row is unchanged since it was read."""
    return replace_op(container_to_row(container), container.version)


def container_removal(container: Container) -> tuple:
    """The transaction operation deleting the container row as it was read."""
    return delete_op(container.kind.key, container.container_id, container.version)


def list_containers(kind: ContainerKind, start: str, top: int) -> list[Container]:
    rows = containers().query("PartitionKey eq @pk and RowKey gt @start and RowKey lt @end",
                              {"pk": kind.key, "start": start, "end": _IDS_END})
    return [container_from_row(kind, row) for row, _ in zip(rows, range(top))]


# ---------------------------------------------------------------- persons

def person_not_found(person_id: str) -> FaceApiError:
    return NotFound(f"Person '{person_id}' is not found.", code="PersonNotFound")


def person_to_row(incarnation: str, p: Person) -> dict:
    row = {"PartitionKey": incarnation, "RowKey": p.person_id, "Name": p.name,
           "FaceIds": json.dumps(p.face_ids)}
    if p.user_data is not None:
        row["UserData"] = p.user_data
    return row


def person_from_row(row: dict) -> Person:
    return Person(person_id=row["RowKey"], name=row["Name"], user_data=row.get("UserData"),
                  face_ids=json.loads(row.get("FaceIds", "[]")))


def get_person(incarnation: str, person_id: str) -> Person:
    return read(persons(), incarnation, person_id, person_from_row, lambda: person_not_found(person_id))


def delete_person(incarnation: str, person_id: str, before: Callable[[Person], None]) -> Person:
    """Delete the person row as last read (ETag match) and return that record, after running
    ``before`` on it. Its face list is then final: an add that links a face later fails its
    ETag-matched link and removes its own face row, so no scan for the person's faces is needed."""
    row = delete_as_read(persons(), incarnation, person_id, lambda read: before(person_from_row(read)),
                         lambda: person_not_found(person_id))
    return person_from_row(row)


def update_person(incarnation: str, person_id: str, change) -> Person:
    row = mutate(persons(), incarnation, person_id,
                 lambda row: person_to_row(incarnation, change(person_from_row(row))),
                 lambda: person_not_found(person_id))
    return person_from_row(row)


def list_persons(incarnation: str, start: str, top: int) -> list[Person]:
    rows = persons().query("PartitionKey eq @pk and RowKey gt @start", {"pk": incarnation, "start": start})
    return [person_from_row(row) for row, _ in zip(rows, range(top))]


def all_persons(incarnation: str) -> Iterator[Person]:
    return (person_from_row(row) for row in persons().partition(incarnation))


# ---------------------------------------------------------------- persisted faces

def face_not_found(face_id: str) -> FaceApiError:
    return NotFound(f"Persisted face '{face_id}' is not found.", code="PersistedFaceNotFound")


def _face_location(incarnation: str, face_id: str) -> str:
    return row_location(faces().name, incarnation, face_id)


def face_to_row(incarnation: str, f: PersistedFace) -> dict:
    row = {"PartitionKey": incarnation, "RowKey": f.face_id, "PersonId": f.person_id}
    if f.user_data is not None:
        row["UserData"] = f.user_data
    return row


def face_from_row(row: dict) -> PersistedFace:
    return PersistedFace(face_id=row["RowKey"], person_id=row.get("PersonId", ""), user_data=row.get("UserData"))


def insert_face(incarnation: str, face: PersistedFace, template: Template) -> None:
    """Store a new face with its template sealed to this row."""
    row = face_to_row(incarnation, face)
    row.update(template_columns(template, _face_location(incarnation, face.face_id)))
    faces().insert(row)


def get_face(incarnation: str, face_id: str, person_id: str = "") -> PersistedFace:
    row = faces().get(incarnation, face_id)
    if row is None or row.get("PersonId", "") != person_id:
        raise face_not_found(face_id)
    return face_from_row(row)


def update_face(incarnation: str, face_id: str, person_id: str, change) -> PersistedFace:
    def apply(row: dict) -> dict:
        if row.get("PersonId", "") != person_id:
            raise face_not_found(face_id)
        row.update(face_to_row(incarnation, change(face_from_row(row))))  # keeps the template columns
        return row

    return face_from_row(mutate(faces(), incarnation, face_id, apply, lambda: face_not_found(face_id)))


_FACE_META = ["RowKey", "PersonId", "UserData"]


def list_faces(incarnation: str, start: str, top: int) -> list[PersistedFace]:
    """Faces without their templates, in ID order (face lists only)."""
    rows = faces().query("PartitionKey eq @pk and RowKey gt @start", {"pk": incarnation, "start": start},
                         select=_FACE_META)
    return [face_from_row(row) for row, _ in zip(rows, range(top))]


def face_templates(incarnation: str) -> Iterator[tuple[PersistedFace, Template]]:
    """Every face of a container with its opened template."""
    for row in faces().partition(incarnation):
        yield face_from_row(row), template_from_columns(row, _face_location(incarnation, row["RowKey"]))


def templates_of(incarnation: str, face_ids: list[str]) -> list[Template]:
    """The opened templates of the given faces (a person's), read by key: the cost follows
    the person's few faces, not the size of the group. Faces whose row is gone are skipped."""
    return [template_from_columns(row, _face_location(incarnation, row["RowKey"]))
            for row in faces().get_many(incarnation, face_ids)]


def delete_faces(incarnation: str, face_ids: list[str]) -> None:
    faces().delete_rows(incarnation, face_ids)


# ---------------------------------------------------------------- tombstones
# Keyed by kind and container id, not incarnation: a search reads them before the
# container row (see search.py), when it does not know the incarnation yet.

def _tomb_partition(kind: ContainerKind, container_id: str) -> str:
    return f"{kind.key}-{container_id}"


def add_tombstones(kind: ContainerKind, container_id: str, ids: list[str]) -> None:
    """One transaction per 100 ids (a person with 248 faces: 3 round trips, not 249)."""
    partition, unique = _tomb_partition(kind, container_id), list(dict.fromkeys(ids))
    table = tombs()
    for start in range(0, len(unique), BATCH_LIMIT):
        table.transact([("upsert", {"PartitionKey": partition, "RowKey": item})
                        for item in unique[start:start + BATCH_LIMIT]])


def tombstones(kind: ContainerKind, container_id: str) -> set[str]:
    rows = tombs().partition(_tomb_partition(kind, container_id), select=["RowKey"])
    return {row["RowKey"] for row in rows}


def drop_tombstones(kind: ContainerKind, container_id: str, ids: set[str]) -> None:
    tombs().delete_rows(_tomb_partition(kind, container_id), sorted(ids))


def drop_rows(incarnation: str) -> None:
    """Remove every face row (templates first), then every person row of an incarnation,
    deleting as the scan goes (a million rows never sit in memory)."""
    for table in (faces(), persons()):
        table.delete_rows(incarnation, (row["RowKey"] for row in table.partition(incarnation, select=["RowKey"])))

"""Removal of gallery data that no container or person owns any more.

Deleting a container, person or face deletes its templates, and writes racing with a delete
clean up after themselves (``repository.confirm_container``, ETag-matched person links). A
process that dies half-way can still leave data behind that no API call reaches:
- person and face rows of an incarnation whose container row is gone (a delete died after
  removing the row, or an add died between its write and its check);
- face rows of a live person group that no person lists (an add died before linking the
  face, or a person delete died before removing the person's faces);
- snapshot blobs that can never be published or read again (their container was deleted or
  re-created, or their build was superseded and its worker died before removing them).

A row is taken only when its Table ``Timestamp`` (last write) is older than
FACE_ORPHAN_MIN_AGE_SECONDS (default 600) on the service clock, so an add still in flight
keeps its unlinked row. The cutoff is fixed before the live containers are read: a row older
than it was written before that read, so its container, if alive, is in the set.
A blob needs no age: its name carries its incarnation and generation, and publishing checks
both against the container row, so a blob they rule out can never become readable.

Finding orphans means scanning the face, person and snapshot stores, so the sweep timer
runs each of these sweepers at most once per FACE_ORPHAN_SWEEP_INTERVAL_SECONDS (default
3600) across all instances (``periodic``), not on every faceId sweep.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from shared import clock
from shared.galleries import repository, snapshots
from shared.galleries.kinds import KINDS
from shared.galleries.records import Container
from shared.storage.rows import etag_of
from shared.settings import env_int
from shared.storage.tables import BatchDeleter, ConcurrentUpdate, EntityExists, Table

MIN_AGE_SETTING = "FACE_ORPHAN_MIN_AGE_SECONDS"
INTERVAL_SETTING = "FACE_ORPHAN_SWEEP_INTERVAL_SECONDS"
_RUNS_PARTITION = "sweeps"  # in the containers table, beside the counters


def periodic(name: str, sweeper: Callable[[], int]) -> Callable[[], int]:
    """``sweeper``, run only when its last run (any instance's) is an interval ago; else 0."""
    def run() -> int:
        return sweeper() if _claim_run(name) else 0

    return run


def _claim_run(name: str) -> bool:
    """Move the run's LastRun column to now under an ETag match: one instance wins."""
    table, now = repository.containers(), clock.now()
    row = table.get(_RUNS_PARTITION, name)
    fresh = {"PartitionKey": _RUNS_PARTITION, "RowKey": name, "LastRun": now}
    try:
        if row is None:
            table.insert(fresh)
        elif now - row["LastRun"] >= timedelta(seconds=env_int(INTERVAL_SETTING, 3600)):
            table.replace(fresh, etag_of(row))
        else:
            return False
    except (EntityExists, ConcurrentUpdate):
        return False
    return True


def min_age_cutoff() -> datetime:
    """Rows and intents written before this may be judged: no request still working on them."""
    return clock.now() - timedelta(seconds=env_int(MIN_AGE_SETTING, 600))


def sweep_rows() -> int:
    """Delete orphaned person and face rows; returns how many."""
    cutoff = min_age_cutoff()
    live = _live_incarnations()
    removed = 0
    persons = BatchDeleter(repository.persons())
    for row in _rows_before(persons.table, cutoff):
        if row["PartitionKey"] not in live:
            persons.add(row["PartitionKey"], row["RowKey"])
    removed += persons.finish()
    faces, links = BatchDeleter(repository.faces()), _PersonLinks()
    for row in _rows_before(faces.table, cutoff, "PersonId"):
        incarnation, person_id = row["PartitionKey"], row.get("PersonId") or ""
        if incarnation not in live or (person_id and not links.lists(incarnation, person_id, row["RowKey"])):
            faces.add(incarnation, row["RowKey"])
    return removed + faces.finish()


def sweep_snapshots() -> int:
    """Delete snapshot blobs no container can publish or read; returns how many."""
    blobs = snapshots.store()
    owner_key, owner = None, None
    removed = 0
    for name in blobs.names():
        parts = name.split("/")
        kind = KINDS.get(parts[0])
        if kind is None or len(parts) != 4 or not parts[3].isdigit():
            continue  # not a snapshot name: not ours to judge
        if (kind.key, parts[1]) != owner_key:  # names come grouped by container: one read each
            owner_key, owner = (kind.key, parts[1]), repository.find_container(kind, parts[1])
        if _dead_snapshot(owner, name, parts[2], int(parts[3])):
            blobs.delete(name)
            removed += 1
    return removed


def _dead_snapshot(owner: Container | None, name: str, incarnation: str, generation: int) -> bool:
    if owner is None or owner.incarnation != incarnation:
        return True
    # A build older than the current generation can no longer publish (training._finish).
    return name != owner.snapshot and generation < owner.generation


def _live_incarnations() -> set[str]:
    """Incarnations of every container (about 100 bytes each: a million containers, 100 MB)."""
    rows = repository.containers().query("Incarnation ne @none", {"none": ""}, select=["PartitionKey", "Incarnation"])
    return {row["Incarnation"] for row in rows if row["PartitionKey"] in KINDS}


def _rows_before(table: Table, cutoff: datetime, *columns: str) -> Iterator[dict]:
    """Keys (and ``columns``) of rows last written before ``cutoff``, partition by partition."""
    return table.query("Timestamp lt @cutoff", {"cutoff": cutoff}, select=["PartitionKey", "RowKey", *columns])


class _PersonLinks:
    """Which faces the persons of one incarnation list, loaded once per partition of the scan."""

    def __init__(self) -> None:
        self._incarnation: str | None = None
        self._faces: dict[str, set[str]] = {}

    def lists(self, incarnation: str, person_id: str, face_id: str) -> bool:
        if incarnation != self._incarnation:
            self._incarnation = incarnation
            self._faces = {p.person_id: set(p.face_ids) for p in repository.all_persons(incarnation)}
        return face_id in self._faces.get(person_id, ())

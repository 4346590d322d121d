"""What must hold in the galleries' storage once every interruption is settled.

Run in the test process against the app's tables (``app_storage`` points FACE_STORAGE_PREFIX
at them). ``settle`` plays the sweep timer on a clock moved past the orphan age and sweep
interval; ``gallery_violations`` lists every broken invariant, so a test can assert ``== []``:
- no intent is left (every interrupted change was finished or undone);
- each kind's counts equal its containers and the persons they hold, each container's person
  or face count equals its rows (no counter drift);
- every face a person lists has its row and every person-group face row is listed by its
  person (no half-added face, no half-deleted person); face-list rows name no person; no
  person or face that is there is hidden from searches by a tombstone;
- no person, face or tombstone row and no snapshot blob belongs to a container that is gone
  (no orphan template).
"""
from __future__ import annotations

from shared.galleries import orphans, pending, repository, snapshots
from shared.galleries.kinds import KINDS
from shared.storage.intents import ROW_PREFIX


def settle(clock) -> None:
    """What the sweep timer's gallery sweepers do once every request in flight is over (their
    hourly gate is left out: earlier settles in this session moved it ahead of the clock)."""
    clock.advance(700)  # past FACE_ORPHAN_MIN_AGE_SECONDS (600)
    pending.finish_interrupted()
    orphans.sweep_rows()
    orphans.sweep_snapshots()


def gallery_violations() -> list[str]:
    problems: list[str] = []
    live: set[str] = set()
    tombs_allowed: set[str] = set()
    for kind in KINDS.values():
        rows = list(repository.containers().partition(kind.key))
        problems += [f"{kind.key}: unsettled intent {row['RowKey']}" for row in rows
                     if row["RowKey"].startswith(ROW_PREFIX)]
        found = [repository.container_from_row(kind, row) for row in rows if not row["RowKey"].startswith("~")]
        counts = repository.kind_counts(kind)
        if counts.containers != len(found):
            problems.append(f"{kind.key}: counts say {counts.containers} containers, there are {len(found)}")
        if counts.persons != sum(c.person_count for c in found):
            problems.append(f"{kind.key}: counts say {counts.persons} persons, containers say "
                            f"{sum(c.person_count for c in found)}")
        for container in found:
            live.add(container.incarnation)
            tombs_allowed.add(f"{kind.key}-{container.container_id}")
            problems += _container_violations(container)
    problems += [f"{table.name}: rows of a deleted container ({partition})"
                 for table in (repository.persons(), repository.faces())
                 for partition in _partitions(table) if partition not in live]
    problems += [f"tombstones of a deleted container ({partition})"
                 for partition in _partitions(repository.tombs()) if partition not in tombs_allowed]
    problems += [f"snapshot blob of a deleted container: {name}" for name in snapshots.store().names()
                 if name.split("/")[2] not in live]
    return problems


def _container_violations(container) -> list[str]:
    where = f"{container.kind.key}/{container.container_id}"
    face_rows = {row["RowKey"]: row.get("PersonId") or ""
                 for row in repository.faces().partition(container.incarnation, select=["RowKey", "PersonId"])}
    if not container.kind.has_persons:
        named = [face for face, person in face_rows.items() if person]
        problems = [f"{where}: list faces naming a person: {named}"] if named else []
        problems += [f"{where}: {face} is there but hidden by a tombstone"
                     for face in repository.tombstones(container.kind, container.container_id) if face in face_rows]
        if container.face_count != len(face_rows):
            problems.append(f"{where}: face count {container.face_count}, {len(face_rows)} face rows")
        return problems
    people = list(repository.all_persons(container.incarnation))
    hidden = repository.tombstones(container.kind, container.container_id)
    problems = [f"{where}: {item} is there but hidden by a tombstone" for item in hidden
                if item in face_rows or any(item == person.person_id for person in people)]
    if container.person_count != len(people):
        problems.append(f"{where}: person count {container.person_count}, {len(people)} person rows")
    listed = {face: person.person_id for person in people for face in person.face_ids}
    problems += [f"{where}: person {person} lists face {face} without its row" for face, person in listed.items()
                 if face_rows.get(face) != person]
    problems += [f"{where}: face row {face} of person {person} is not listed" for face, person in face_rows.items()
                 if listed.get(face) != person]
    return problems


def _partitions(table) -> set[str]:
    return {row["PartitionKey"] for row in table.query("PartitionKey ne @none", {"none": ""},
                                                      select=["PartitionKey"])}

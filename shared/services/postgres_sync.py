"""PostgreSQL kept in agreement with the record in Table Storage (FACE_SEARCH_ENGINE=postgres).

The Table rows (sealed templates) are the record; PostgreSQL holds what is searched. Every
request writes both, removals in PostgreSQL first, additions in Table Storage first, so a
failure between the two leaves at most: a vector whose face row is gone (an add that failed
or was undone) or a face row without its vector (an outage). The sweep reconciles both ways:

- vectors read first, then the rows: a vector with no row is removed (its row was written
  before it, so a row read afterwards would show it unless it went meanwhile);
- a row with no vector gets it back, unless its face or person was removed meanwhile (the
  removal marks refuse it), and only directory faces and untrained-generation gallery faces
  (a face of a LargePersonGroup or LargeFaceList becomes searchable at its next training);
- containers PostgreSQL holds but Table Storage no longer has are dropped;

on the orphan scans' schedule (FACE_ORPHAN_SWEEP_INTERVAL_SECONDS: it reads both sides whole);
and on every sweep, forgets old removal marks and VACUUMs (shared.postgres.maintenance).

    python -m shared.services.postgres_sync rebuild   # repopulate PostgreSQL from the Table rows
    python -m shared.services.postgres_sync audit     # print what disagrees (exit 1 if anything)
    python -m shared.services.postgres_sync rewrite   # VACUUM FULL: scrub freed bytes (locks)
    python -m shared.services.postgres_sync reindex   # HNSW over faces -> over owners' centroids (online)
"""
from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field

from shared.directory import repository as directory
from shared.engine.types import RECOGNITION_MODELS
from shared.galleries import orphans, repository as galleries
from shared.galleries.kinds import LARGE_FACE_LIST, LARGE_PERSON_GROUP
from shared.postgres import maintenance, vectors
from shared.postgres.config import postgres_search

logger = logging.getLogger(__name__)
GALLERY_KINDS = (LARGE_PERSON_GROUP, LARGE_FACE_LIST)


@dataclass
class Differences:
    """What PostgreSQL holds beyond the record, and what it lacks, per container."""

    extra: dict[str, dict[str, str]] = field(default_factory=dict)  # container -> face -> owner
    missing: dict[str, dict[str, str]] = field(default_factory=dict)  # container -> face -> owner
    dead_containers: list[str] = field(default_factory=list)

    def count(self) -> int:
        return (sum(map(len, self.extra.values())) + sum(map(len, self.missing.values()))
                + len(self.dead_containers))

    def as_json(self) -> dict:
        return {"extra": self.extra, "missing": self.missing, "deadContainers": self.dead_containers}


def _directory_faces() -> dict[str, dict[str, str]]:
    """model -> face -> person, from the face packs."""
    found: dict[str, dict[str, str]] = {model: {} for model in RECOGNITION_MODELS}
    for row in directory.all_pack_rows(["RowKey", "FaceIds"]):
        person_id, model = row["RowKey"].split("_", 1)
        for face_id in json.loads(row["FaceIds"]):
            found.setdefault(model, {})[face_id] = person_id
    return found


def _gallery_containers() -> dict[str, object]:
    """PostgreSQL container name -> container, of every LargePersonGroup and LargeFaceList."""
    found = {}
    for kind in GALLERY_KINDS:
        for row in galleries.containers().query("PartitionKey eq @pk and RowKey lt @end",
                                                {"pk": kind.key, "end": "~"}):
            container = galleries.container_from_row(kind, row)
            found[vectors.gallery_container(container.incarnation)] = container
    return found


def _gallery_faces(container) -> dict[str, str]:
    """face -> owner of the container's face rows (person faces only when their person lists them)."""
    if container.kind.has_persons:
        return {face_id: person.person_id for person in galleries.all_persons(container.incarnation)
                for face_id in person.face_ids}
    return {row["RowKey"]: row["RowKey"]
            for row in galleries.faces().partition(container.incarnation, select=["RowKey"])}


def compare() -> Differences:
    """PostgreSQL against the record: each side read in the order the module doc explains."""
    directory_names, gallery_names = vectors.own_containers(vectors.containers())
    held = {container: vectors.faces_of(container) for container in directory_names + gallery_names}
    differences = Differences()
    for model, faces in _directory_faces().items():
        container = vectors.directory_container(model)
        _differ(differences, container, held.get(container, {}), faces)
    live = _gallery_containers()
    for container in gallery_names:
        if container not in live:
            differences.dead_containers.append(container)
        else:
            _differ(differences, container, held[container], _gallery_faces(live[container]))
    return differences


def _differ(differences: Differences, container: str, held: dict[str, str], record: dict[str, str]) -> None:
    extra = {face: owner for face, owner in held.items() if face not in record}
    missing = {face: owner for face, owner in record.items() if face not in held}
    if extra:
        differences.extra[container] = extra
    if missing:
        differences.missing[container] = missing


def reconcile() -> int:
    """Make PostgreSQL agree with the record; returns how many faces and containers it fixed."""
    differences = compare()
    for container in differences.dead_containers:
        vectors.drop_container(container)
    for container, extra in differences.extra.items():
        for owner, face_ids in _by_owner(extra).items():
            # Not marked removed: a gallery add links its face after writing the vector.
            vectors.forget_faces(container, owner, face_ids)
    live = _gallery_containers()
    for container, missing in differences.missing.items():
        _restore(container, missing, live.get(container))
    return differences.count()


def _by_owner(faces: dict[str, str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for face_id, owner in faces.items():
        grouped.setdefault(owner, []).append(face_id)
    return grouped


def _restore(container: str, missing: dict[str, str], gallery) -> None:
    """Give missing faces their vectors back (from the sealed templates), then drop any whose
    record went while this ran (a delete that raced the restore)."""
    by_owner = _by_owner(missing)
    for owner, face_ids in by_owner.items():
        if gallery is None:
            model = container.rsplit(":", 1)[1]
            pack = directory.find_pack(owner, model)
            faces = [vectors.NewVector(face.face_id, owner, face.template.vector)
                     for face in pack.faces if face.face_id in face_ids]
            generation = 0
        else:
            person = "" if owner in face_ids else owner  # a face-list face owns itself
            templates = galleries.templates_of(gallery.incarnation, face_ids)
            faces = [vectors.NewVector(face_id, person, template.vector)
                     for face_id, template in zip(face_ids, templates)]
            generation = gallery.generation
        try:
            vectors.add(container, owner, faces, generation=generation)
        except vectors.OwnerRemoved:
            continue
    recheck = _gallery_faces(gallery) if gallery is not None else {
        face.face_id: owner for owner in by_owner for face in directory.find_pack(owner, container.rsplit(":", 1)[1]).faces}
    for face_id, owner in missing.items():
        if face_id not in recheck:
            vectors.remove_faces(container, owner, [face_id])


_reconcile_periodically = orphans.periodic("searchEngine", reconcile)


def sweep_reconcile() -> int:
    """The sweep's reconciliation: it reads both sides whole, so at most once per interval."""
    return _reconcile_periodically() if postgres_search() else 0


def sweep_vacuum() -> int:
    """Every sweep: forget old removal marks, then VACUUM (removed vectors leave the files'
    live data). Returns how many marks it forgot."""
    if not postgres_search():
        return 0
    forgotten = maintenance.purge_removal_marks()
    maintenance.vacuum()
    return forgotten


def rebuild(batch: int = 500) -> int:
    """Repopulate PostgreSQL from the record (after a switch of engine, a restore, a new
    server): every directory face, every gallery face (trained faces at generation 0, so a
    trained container answers at once), ``batch`` owners per transaction. Returns how many
    faces it wrote (faces already there, or removed, are left as they are)."""
    written = 0
    for model, faces in _directory_faces().items():
        persons = sorted(set(faces.values()))
        for start in range(0, len(persons), batch):
            chunk = {person: [vectors.NewVector(face.face_id, person, face.template.vector)
                              for face in directory.find_pack(person, model).faces]
                     for person in persons[start:start + batch]}
            refused = vectors.add_many(vectors.directory_container(model), chunk)
            written += sum(len(items) for person, items in chunk.items() if person not in refused)
    for name, container in _gallery_containers().items():
        live = _gallery_faces(container)
        face_ids = list(live)
        for start in range(0, len(face_ids), batch):
            chunk = face_ids[start:start + batch]
            by_owner: dict[str, list[vectors.NewVector]] = {}
            for face_id, template in zip(chunk, galleries.templates_of(container.incarnation, chunk)):
                owner = live[face_id]
                by_owner.setdefault(owner, []).append(
                    vectors.NewVector(face_id, "" if owner == face_id else owner, template.vector))
            refused = vectors.add_many(name, by_owner, generation=0)
            written += sum(len(items) for owner, items in by_owner.items() if owner not in refused)
    return written


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "rebuild":
        print(f"rebuilt: {rebuild()} faces written")
    elif command == "audit":
        differences = compare()
        print(json.dumps(differences.as_json(), indent=2))
        return 1 if differences.count() else 0
    elif command == "rewrite":
        maintenance.vacuum(full=True)
        print("rewritten")
    elif command == "reindex":
        print(f"reindexed: centroid HNSW index of dimensions {maintenance.reindex()}")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

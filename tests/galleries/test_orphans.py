"""Deletion really deletes: races between adds and deletes leave no rows or blobs behind,
and the sweep removes what a crash left (and nothing live).

Each race is made deterministic by running the delete inside the add, right before the
add's row write lands; the crash leftovers are written directly through the repository.
"""
from __future__ import annotations

import uuid

import numpy as np
import pytest

from shared.engine.types import Template
from shared.errors import NotFound
from shared.galleries import containers, faces, orphans, persons, repository, snapshots, training
from shared.galleries.kinds import FACE_LIST, LARGE_FACE_LIST, LARGE_PERSON_GROUP, PERSON_GROUP
from shared.galleries.records import PersistedFace, Person
from shared.index.gallery import build_index
from shared.storage import intents

from gallery_support import drain_training

pytestmark = pytest.mark.usefixtures("service", "isolated")
IMAGE = faces.FaceInput(b"not decoded: the embedder is replaced", None, "detection_01", None)


def _template(seed: int = 0) -> Template:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return Template(vector / np.linalg.norm(vector), "test-embedder", "1", "recognition_01")


@pytest.fixture(autouse=True)
def fixed_embedding(monkeypatch):
    monkeypatch.setattr(faces, "embed_single_face", lambda face, model, embedder: _template())


def _new(kind, container_id: str | None = None):
    return containers.create(kind, container_id or "o-" + uuid.uuid4().hex[:10], {"name": "n"})


def _rows(table, incarnation: str) -> list[str]:
    return [row["RowKey"] for row in table.partition(incarnation, select=["RowKey"])]


def _persons_counted(kind) -> int:
    return repository.kind_counts(kind).persons


def _before_write(monkeypatch, module, name: str, action) -> None:
    """Run ``action`` just before ``module.name`` writes: the race's losing interleaving."""
    original = getattr(module, name)

    def raced(*args, **kwargs):
        action()
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, raced)


# ---------------------------------------------------------------- races on the write path

@pytest.mark.parametrize("kind", [FACE_LIST, LARGE_FACE_LIST], ids=lambda k: k.key)
def test_list_add_racing_container_delete_removes_its_row(monkeypatch, kind):
    container = _new(kind)
    _before_write(monkeypatch, repository, "insert_face", lambda: containers.delete(kind, container.container_id))
    with pytest.raises(NotFound):
        faces.add_to_list(kind, container.container_id, IMAGE)
    assert _rows(repository.faces(), container.incarnation) == []


def test_list_add_racing_delete_and_recreate_counts_nothing_on_the_successor(monkeypatch):
    container = _new(LARGE_FACE_LIST)
    successor = []

    def recreate() -> None:
        containers.delete(LARGE_FACE_LIST, container.container_id)
        successor.append(containers.create(LARGE_FACE_LIST, container.container_id, {"name": "again"}))

    monkeypatch.setattr(faces, "embed_single_face", lambda face, model, embedder: (recreate(), _template())[1])
    with pytest.raises(NotFound):
        faces.add_to_list(LARGE_FACE_LIST, container.container_id, IMAGE)
    assert repository.get_container(LARGE_FACE_LIST, container.container_id).face_count == 0
    assert _rows(repository.faces(), container.incarnation) == []
    assert _rows(repository.faces(), successor[0].incarnation) == []


@pytest.mark.parametrize("kind", [PERSON_GROUP, LARGE_PERSON_GROUP], ids=lambda k: k.key)
def test_person_add_racing_container_delete_removes_its_row(monkeypatch, kind):
    """The add's face row lands after the delete scanned the faces but before it removed the
    persons, so linking the face to its (still present) person succeeds."""
    container = _new(kind)
    person_id = persons.create(kind, container.container_id, {"name": "p"})

    def delete_up_to_the_person_rows() -> None:
        repository.containers().delete(kind.key, container.container_id)
        repository.delete_faces(container.incarnation, _rows(repository.faces(), container.incarnation))

    _before_write(monkeypatch, repository, "insert_face", delete_up_to_the_person_rows)
    with pytest.raises(NotFound):
        faces.add_to_person(kind, container.container_id, person_id, IMAGE)
    repository.drop_rows(container.incarnation)  # the rest of the delete
    assert _rows(repository.faces(), container.incarnation) == []
    assert _rows(repository.persons(), container.incarnation) == []


def test_person_add_racing_person_delete_removes_its_row(monkeypatch):
    container = _new(PERSON_GROUP)
    person_id = persons.create(PERSON_GROUP, container.container_id, {"name": "p"})
    kept = faces.add_to_person(PERSON_GROUP, container.container_id,
                               persons.create(PERSON_GROUP, container.container_id, {"name": "q"}), IMAGE)
    _before_write(monkeypatch, repository, "insert_face",
                  lambda: persons.delete(PERSON_GROUP, container.container_id, person_id))
    with pytest.raises(NotFound) as err:
        faces.add_to_person(PERSON_GROUP, container.container_id, person_id, IMAGE)
    assert err.value.code == "PersonNotFound"
    assert _rows(repository.faces(), container.incarnation) == [kept]


def test_person_create_racing_container_delete_removes_its_row_and_count(monkeypatch):
    container = _new(LARGE_PERSON_GROUP)
    count_in = persons._count_in

    def count_in_then_lose(kind, container_id, person_id):
        reserved = count_in(kind, container_id, person_id)
        containers.delete(kind, container_id)
        return reserved

    monkeypatch.setattr(persons, "_count_in", count_in_then_lose)
    with pytest.raises(NotFound):
        persons.create(LARGE_PERSON_GROUP, container.container_id, {"name": "p"})
    assert _rows(repository.persons(), container.incarnation) == []
    assert _persons_counted(LARGE_PERSON_GROUP) == 0
    assert list(intents.pending(repository.containers(), LARGE_PERSON_GROUP.key)) == []


def test_container_delete_releases_persons_added_after_its_read(monkeypatch):
    container = _new(PERSON_GROUP)
    persons.create(PERSON_GROUP, container.container_id, {"name": "p"})
    read = repository.find_container
    late = []

    def read_then_add(kind, container_id):  # a person is created between the delete's read and its delete
        found = read(kind, container_id)
        if not late:
            late.append("started")
            persons.create(PERSON_GROUP, container_id, {"name": "late"})
        return found

    monkeypatch.setattr(repository, "find_container", read_then_add)
    containers.delete(PERSON_GROUP, container.container_id)
    assert _persons_counted(PERSON_GROUP) == 0
    assert _rows(repository.persons(), container.incarnation) == []


def test_training_publishing_after_container_delete_removes_its_blob(monkeypatch):
    container = _new(LARGE_FACE_LIST)
    faces.add_to_list(LARGE_FACE_LIST, container.container_id, IMAGE)
    training.request(LARGE_FACE_LIST, container.container_id)
    _before_write(monkeypatch, snapshots, "write",
                  lambda: containers.delete(LARGE_FACE_LIST, container.container_id))
    assert drain_training() == 1
    assert list(snapshots.store().names(f"{LARGE_FACE_LIST.key}/{container.container_id}/")) == []


# ---------------------------------------------------------------- the sweep

def _dead_incarnation_rows() -> str:
    """What a container delete that died after removing the container row leaves."""
    incarnation = uuid.uuid4().hex
    person = Person(str(uuid.uuid4()), "gone", None)
    face = PersistedFace(str(uuid.uuid4()), person.person_id, None)
    person.face_ids.append(face.face_id)
    repository.persons().insert(repository.person_to_row(incarnation, person))
    repository.insert_face(incarnation, face, _template(1))
    repository.insert_face(incarnation, PersistedFace(str(uuid.uuid4()), "", None), _template(2))
    return incarnation


def test_sweep_removes_orphaned_rows_and_keeps_live_ones(service, clock, monkeypatch):
    face_list = _new(FACE_LIST)
    list_face = faces.add_to_list(FACE_LIST, face_list.container_id, IMAGE)
    group = _new(PERSON_GROUP)
    person_id = persons.create(PERSON_GROUP, group.container_id, {"name": "p"})
    linked = faces.add_to_person(PERSON_GROUP, group.container_id, person_id, IMAGE)
    dead = _dead_incarnation_rows()
    unlinked = PersistedFace(str(uuid.uuid4()), person_id, None)  # add died before linking
    repository.insert_face(group.incarnation, unlinked, _template(3))
    of_deleted_person = PersistedFace(str(uuid.uuid4()), str(uuid.uuid4()), None)  # person delete died
    repository.insert_face(group.incarnation, of_deleted_person, _template(4))

    assert orphans.sweep_rows() == 0  # all of it younger than FACE_ORPHAN_MIN_AGE_SECONDS: maybe in flight
    assert _rows(repository.faces(), dead) != []

    clock.advance(601)
    assert service.invoke("sweep") is None
    assert _rows(repository.persons(), dead) == [] and _rows(repository.faces(), dead) == []
    assert _rows(repository.faces(), group.incarnation) == [linked]
    assert _rows(repository.persons(), group.incarnation) == [person_id]
    assert _rows(repository.faces(), face_list.incarnation) == [list_face]
    assert orphans.sweep_rows() == 0  # idempotent


def test_sweep_timer_runs_the_orphan_scans_once_per_interval(clock):
    from shared.services.sweep import sweep_expired

    first = _dead_incarnation_rows()
    clock.advance(601)
    assert sweep_expired()["orphanedGalleryRows"] == 3
    second = _dead_incarnation_rows()
    clock.advance(601)
    assert sweep_expired()["orphanedGalleryRows"] == 0  # ran 601 s ago (any instance's run counts)
    assert _rows(repository.faces(), second) != []
    clock.advance(3600 - 601)
    assert sweep_expired()["orphanedGalleryRows"] == 3
    assert _rows(repository.faces(), first) == [] and _rows(repository.faces(), second) == []


def test_sweep_min_age_is_a_setting(clock, monkeypatch):
    dead = _dead_incarnation_rows()
    monkeypatch.setenv(orphans.MIN_AGE_SETTING, "60")
    clock.advance(30)
    assert orphans.sweep_rows() == 0
    clock.advance(31)
    assert orphans.sweep_rows() == 3
    assert _rows(repository.faces(), dead) == []


def test_sweep_deletes_rows_in_batches(clock):
    incarnation = uuid.uuid4().hex
    template = _template(5)
    for _ in range(130):  # more than one 100-row transaction
        repository.insert_face(incarnation, PersistedFace(str(uuid.uuid4()), "", None), template)
    clock.advance(601)
    assert orphans.sweep_rows() == 130
    assert _rows(repository.faces(), incarnation) == []


def _snapshot(container, generation: int) -> str:
    container.generation = generation
    index = build_index(np.stack([_template(generation).vector]), np.arange(1), ["f"], [None])
    return snapshots.write(container, index)


def test_sweep_removes_snapshots_nothing_can_publish_and_keeps_the_rest():
    live = _new(LARGE_FACE_LIST)
    superseded, published, in_flight = (_snapshot(live, g) for g in (1, 2, 3))

    def publish(container):
        container.snapshot, container.generation = published, 3
        return container

    repository.update_container(LARGE_FACE_LIST, live.container_id, publish)
    deleted = _new(LARGE_PERSON_GROUP)
    of_deleted = _snapshot(deleted, 1)
    containers.delete(LARGE_PERSON_GROUP, deleted.container_id)
    snapshots.store().put(of_deleted, b"left by a worker that died before its cleanup")
    recreated = _new(PERSON_GROUP)
    of_predecessor = _snapshot(recreated, 1)
    containers.delete(PERSON_GROUP, recreated.container_id)
    successor = _new(PERSON_GROUP, recreated.container_id)
    snapshots.store().put(of_predecessor, b"left by a worker that died before its cleanup")

    assert orphans.sweep_snapshots() == 3
    remaining = set(snapshots.store().names())
    assert {published, in_flight} <= remaining
    assert not {superseded, of_deleted, of_predecessor} & remaining
    assert repository.get_container(PERSON_GROUP, successor.container_id).incarnation == successor.incarnation
    assert orphans.sweep_snapshots() == 0

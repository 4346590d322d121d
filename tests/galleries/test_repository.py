"""Repository building blocks against Azurite: batched tombstones, counters, per-person reads,
and deletes that release a count exactly once when two race."""
from __future__ import annotations

import uuid

import numpy as np
import pytest

from shared.engine.types import Template
from shared.errors import NotFound
from shared.galleries import containers, faces, persons, repository, search
from shared.galleries.kinds import FACE_LIST, LARGE_FACE_LIST, LARGE_PERSON_GROUP, PERSON_GROUP
from shared.galleries.records import PersistedFace
from shared.storage.tables import Table

pytestmark = pytest.mark.usefixtures("service", "isolated")
IMAGE = faces.FaceInput(b"not decoded: the embedder is replaced", None, "detection_01", None)


def _template(seed: int) -> Template:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return Template(vector / np.linalg.norm(vector), "dlib_resnet_v1", "1", "recognition_01")


def _count_gets(monkeypatch) -> list[tuple[str, str]]:
    reads: list[tuple[str, str]] = []
    original = Table.get

    def counted(self, partition_key, row_key):
        reads.append((partition_key, row_key))
        return original(self, partition_key, row_key)

    monkeypatch.setattr(Table, "get", counted)
    return reads


def test_tombstones_of_a_big_person_are_all_written_once_each():
    ids = [str(uuid.uuid4()) for _ in range(249)]
    repository.add_tombstones(LARGE_PERSON_GROUP, "t-1", ids + ids[:5])  # over 2 batches, with repeats
    assert repository.tombstones(LARGE_PERSON_GROUP, "t-1") == set(ids)
    assert repository.tombstones(LARGE_PERSON_GROUP, "t-2") == set()


def test_a_counter_is_created_on_first_use_and_read_once_per_change(monkeypatch):
    counters = repository.counters()
    counters.add("c-test", 1, 5, "things")
    reads = _count_gets(monkeypatch)
    counters.add("c-test", 2, 5, "things")
    assert reads == [("counters", "c-test")]
    assert int(repository.containers().get("counters", "c-test")["Value"]) == 3


def test_verify_to_person_reads_only_the_persons_listed_faces(monkeypatch):
    """A face row naming the person but not listed by it (an add in flight) does not count."""
    container = containers.create(PERSON_GROUP, "v-" + uuid.uuid4().hex[:10], {"name": "n"})
    person_id = persons.create(PERSON_GROUP, container.container_id, {"name": "p"})
    monkeypatch.setattr(faces, "embed_single_face", lambda face, model: _template(1))
    faces.add_to_person(PERSON_GROUP, container.container_id, person_id, IMAGE)
    unlinked = PersistedFace(face_id=str(uuid.uuid4()), person_id=person_id, user_data=None)
    repository.insert_face(container.incarnation, unlinked, _template(2))

    same = search.verify_to_person(PERSON_GROUP, container.container_id, person_id, _template(1))
    assert same["isIdentical"] and same["confidence"] > 0.9
    other = search.verify_to_person(PERSON_GROUP, container.container_id, person_id, _template(2))
    assert not other["isIdentical"]


def test_templates_of_skips_faces_whose_row_is_gone():
    incarnation = uuid.uuid4().hex
    face_ids = [str(uuid.uuid4()) for _ in range(3)]
    for seed, face_id in enumerate(face_ids[:2]):
        repository.insert_face(incarnation, PersistedFace(face_id, "p", None), _template(seed))
    found = repository.templates_of(incarnation, face_ids)
    assert len(found) == 2
    np.testing.assert_array_equal(found[1].vector, _template(1).vector)


def _racing_once(monkeypatch, module, name: str, action) -> None:
    """Run ``action`` (a competing delete) once, right after ``module.name`` returns."""
    original, fired = getattr(module, name), []

    def raced(*args, **kwargs):
        result = original(*args, **kwargs)
        if not fired:
            fired.append(True)
            action()
        return result

    monkeypatch.setattr(module, name, raced)


@pytest.mark.parametrize("kind", [PERSON_GROUP, LARGE_PERSON_GROUP], ids=lambda k: k.key)
def test_two_racing_person_deletes_release_the_person_once(monkeypatch, kind):
    container = containers.create(kind, "r-" + uuid.uuid4().hex[:10], {"name": "n"})
    person_id = persons.create(kind, container.container_id, {"name": "gone"})
    persons.create(kind, container.container_id, {"name": "kept"})
    _racing_once(monkeypatch, repository, "add_tombstones",
                 lambda: persons.delete(kind, container.container_id, person_id))
    with pytest.raises(NotFound) as err:
        persons.delete(kind, container.container_id, person_id)
    assert err.value.code == "PersonNotFound"
    assert repository.get_container(kind, container.container_id).person_count == 1
    assert int(repository.containers().get("counters", containers.persons_counter(kind))["Value"]) == 1


@pytest.mark.parametrize("kind", [FACE_LIST, LARGE_FACE_LIST], ids=lambda k: k.key)
def test_two_racing_list_face_deletes_release_the_face_once(monkeypatch, kind):
    container = containers.create(kind, "r-" + uuid.uuid4().hex[:10], {"name": "n"})
    monkeypatch.setattr(faces, "embed_single_face", lambda face, model: _template(1))
    face_id = faces.add_to_list(kind, container.container_id, IMAGE)
    faces.add_to_list(kind, container.container_id, IMAGE)
    _racing_once(monkeypatch, repository, "get_face",
                 lambda: faces.delete_from_list(kind, container.container_id, face_id))
    with pytest.raises(NotFound) as err:
        faces.delete_from_list(kind, container.container_id, face_id)
    assert err.value.code == "PersistedFaceNotFound"
    assert repository.get_container(kind, container.container_id).face_count == 1


def test_a_face_linked_while_its_person_is_deleted_is_deleted_too(monkeypatch):
    """The person row is deleted only as last read, so a face linked after that read makes
    the delete read again and take the new face with it."""
    container = containers.create(LARGE_PERSON_GROUP, "r-" + uuid.uuid4().hex[:10], {"name": "n"})
    person_id = persons.create(LARGE_PERSON_GROUP, container.container_id, {"name": "p"})
    monkeypatch.setattr(faces, "embed_single_face", lambda face, model: _template(1))
    first = faces.add_to_person(LARGE_PERSON_GROUP, container.container_id, person_id, IMAGE)
    late = []
    _racing_once(monkeypatch, repository, "add_tombstones", lambda: late.append(
        faces.add_to_person(LARGE_PERSON_GROUP, container.container_id, person_id, IMAGE)))
    persons.delete(LARGE_PERSON_GROUP, container.container_id, person_id)
    assert late and repository.faces().get_many(container.incarnation, [first, late[0]]) == []
    assert repository.tombstones(LARGE_PERSON_GROUP, container.container_id) >= {person_id, first, late[0]}
    assert repository.get_container(LARGE_PERSON_GROUP, container.container_id).person_count == 0

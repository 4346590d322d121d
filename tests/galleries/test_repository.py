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
from shared.galleries.records import Container, PersistedFace

pytestmark = pytest.mark.usefixtures("service", "isolated")
IMAGE = faces.FaceInput(b"not decoded: the embedder is replaced", None, "detection_01", None)


def _template(seed: int) -> Template:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return Template(vector / np.linalg.norm(vector), "dlib_resnet_v1", "1", "recognition_01")


def test_tombstones_of_a_big_person_are_all_written_once_each():
    ids = [str(uuid.uuid4()) for _ in range(249)]
    repository.add_tombstones(LARGE_PERSON_GROUP, "t-1", ids + ids[:5])  # over 2 batches, with repeats
    assert repository.tombstones(LARGE_PERSON_GROUP, "t-1") == set(ids)
    assert repository.tombstones(LARGE_PERSON_GROUP, "t-2") == set()


def test_kind_counts_start_from_the_containers_already_there_and_move_with_them():
    """Rows written before the counts row existed (or a fresh account) are counted once; from
    then on create and delete change the count in their own transaction."""
    old = [Container(kind=PERSON_GROUP, container_id=f"old-{n}", name="n", user_data=None,
                     recognition_model="recognition_01", incarnation=uuid.uuid4().hex, created="",
                     person_count=n + 1) for n in range(2)]
    for container in old:
        repository.containers().insert(repository.container_to_row(container))
    assert (repository.kind_counts(PERSON_GROUP).containers, repository.kind_counts(PERSON_GROUP).persons) == (2, 3)
    containers.create(PERSON_GROUP, "new-1", {"name": "n"})
    assert repository.kind_counts(PERSON_GROUP).containers == 3
    containers.delete(PERSON_GROUP, "old-1")
    assert (repository.kind_counts(PERSON_GROUP).containers, repository.kind_counts(PERSON_GROUP).persons) == (2, 1)
    assert [c.container_id for c in repository.list_containers(PERSON_GROUP, "", 10)] == ["new-1", "old-0"]


def test_verify_to_person_reads_only_the_persons_listed_faces(monkeypatch):
    """A face row naming the person but not listed by it (an add in flight) does not count."""
    container = containers.create(PERSON_GROUP, "v-" + uuid.uuid4().hex[:10], {"name": "n"})
    person_id = persons.create(PERSON_GROUP, container.container_id, {"name": "p"})
    monkeypatch.setattr(faces, "embed_single_face", lambda face, model, embedder: _template(1))
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
@pytest.mark.parametrize("step", ["get_person", "add_tombstones"])  # before / after the first one's intent
def test_two_racing_person_deletes_release_the_person_once(monkeypatch, kind, step):
    container = containers.create(kind, "r-" + uuid.uuid4().hex[:10], {"name": "n"})
    person_id = persons.create(kind, container.container_id, {"name": "gone"})
    persons.create(kind, container.container_id, {"name": "kept"})
    outcomes = []

    def delete() -> None:
        try:
            persons.delete(kind, container.container_id, person_id)
            outcomes.append("deleted")
        except NotFound as err:
            outcomes.append(err.code)

    _racing_once(monkeypatch, repository, step, delete)
    delete()
    assert sorted(outcomes) == ["PersonNotFound", "deleted"]
    assert repository.get_container(kind, container.container_id).person_count == 1
    assert repository.kind_counts(kind).persons == 1
    assert repository.persons().get(container.incarnation, person_id) is None


@pytest.mark.parametrize("kind", [FACE_LIST, LARGE_FACE_LIST], ids=lambda k: k.key)
def test_two_racing_list_face_deletes_release_the_face_once(monkeypatch, kind):
    container = containers.create(kind, "r-" + uuid.uuid4().hex[:10], {"name": "n"})
    monkeypatch.setattr(faces, "embed_single_face", lambda face, model, embedder: _template(1))
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
    monkeypatch.setattr(faces, "embed_single_face", lambda face, model, embedder: _template(1))
    first = faces.add_to_person(LARGE_PERSON_GROUP, container.container_id, person_id, IMAGE)
    late = []
    _racing_once(monkeypatch, repository, "add_tombstones", lambda: late.append(
        faces.add_to_person(LARGE_PERSON_GROUP, container.container_id, person_id, IMAGE)))
    persons.delete(LARGE_PERSON_GROUP, container.container_id, person_id)
    assert late and repository.faces().get_many(container.incarnation, [first, late[0]]) == []
    assert repository.tombstones(LARGE_PERSON_GROUP, container.container_id) >= {person_id, first, late[0]}
    assert repository.get_container(LARGE_PERSON_GROUP, container.container_id).person_count == 0

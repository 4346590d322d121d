"""Persons of a PersonGroup / LargePersonGroup: create, read, update, list, delete."""
from __future__ import annotations

import uuid

from shared.errors import NotFound
from shared.galleries import quotas, repository, validation
from shared.galleries.containers import persons_counter
from shared.galleries.kinds import ContainerKind
from shared.galleries.records import Container, Person, patched
from shared.galleries.rows import bounded


def create(kind: ContainerKind, container_id: str, body: dict) -> str:
    person = Person(person_id=str(uuid.uuid4()),
                    name=validation.name(body.get("name"), required=True),
                    user_data=validation.user_data(body.get("userData")))
    container = _reserve_person(kind, container_id)
    try:
        repository.persons().insert(repository.person_to_row(container.incarnation, person))
    except Exception:
        _release_person(container)
        raise
    try:
        repository.confirm_container(container)
    except NotFound:
        # Deleted while the row was written: the delete's scan may have missed the row, and it
        # released the reserved count already (it deletes the row as it last read it).
        repository.persons().delete(container.incarnation, person.person_id)
        raise
    return person.person_id


def get(kind: ContainerKind, container_id: str, person_id: str) -> Person:
    container = repository.get_container(kind, container_id)
    return repository.get_person(container.incarnation, person_id)


def update(kind: ContainerKind, container_id: str, person_id: str, body: dict) -> None:
    name = validation.name(body.get("name"), required=False)
    user_data = validation.user_data(body.get("userData"))
    container = repository.get_container(kind, container_id)
    repository.update_person(container.incarnation, person_id, lambda person: patched(person, name, user_data))


def listing(kind: ContainerKind, container_id: str, start: str, top: int) -> list[dict]:
    container = repository.get_container(kind, container_id)
    return [p.as_json() for p in repository.list_persons(container.incarnation, start, top)]


def delete(kind: ContainerKind, container_id: str, person_id: str) -> None:
    """Tombstone first, so searches on the current snapshot drop the person at once. Only the
    delete that removed the person row releases its count (a racing one answers 404)."""
    container = repository.get_container(kind, container_id)
    person = repository.delete_person(
        container.incarnation, person_id,
        lambda read: repository.add_tombstones(kind, container_id, [read.person_id, *read.face_ids]))
    repository.delete_faces(container.incarnation, person.face_ids)
    _release_person(container)


def _reserve_person(kind: ContainerKind, container_id: str) -> Container:
    """Count the person against the group limit, then the subscription limit."""
    container = repository.update_container(
        kind, container_id,
        lambda c: _with_person_count(c, 1, quotas.limit(kind, "persons")))
    try:
        repository.counters().add(persons_counter(kind), 1, quotas.limit(kind, "persons_total"), "persons")
    except Exception:
        repository.update_container(kind, container_id, lambda c: _with_person_count(c, -1, None))
        raise
    return container


def _release_person(container: Container) -> None:
    """Group count first: if the container is gone (or was re-created), its delete released
    both counts already, the subscription's included."""
    try:
        repository.update_same_container(container, lambda c: _with_person_count(c, -1, None))
    except NotFound:
        return
    repository.counters().add(persons_counter(container.kind), -1, None, "persons")


def _with_person_count(container: Container, delta: int, maximum: int | None) -> Container:
    container.person_count = bounded(container.person_count, delta, maximum,
                                     f"persons in the {container.kind.display}")
    return container

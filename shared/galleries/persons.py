"""Persons of a PersonGroup / LargePersonGroup: create, read, update, list, delete.

A person is counted twice (in its group and in the kind's subscription-wide total); both
counts change in one transaction with a ``create-person`` or ``delete-person`` intent
(shared.storage.intents), and the person row (another table) is written or deleted after.
The intent is resolved once the row is done. One left behind by a crash, a storage outage
or a lost answer is settled by the sweep (``pending.finish_interrupted``): a delete is
finished; a create older than FACE_ORPHAN_MIN_AGE_SECONDS (no request lives that long) is
kept if its row exists and otherwise counted out again. So the counts always end up equal to
the rows, and a person is either fully there or fully gone.
"""
from __future__ import annotations

import uuid

from shared.errors import NotFound
from shared.galleries import postgres_index, quotas, repository, validation
from shared.galleries.containers import count_member_out, member_subject, settle_added_member
from shared.galleries.kinds import ContainerKind
from shared.galleries.records import Container, Person, patched
from shared.storage.rows import bounded, settle
from shared.storage import intents

CREATE, DELETE = "create-person", "delete-person"


def create(kind: ContainerKind, container_id: str, body: dict) -> str:
    person = Person(person_id=str(uuid.uuid4()),
                    name=validation.name(body.get("name"), required=True),
                    user_data=validation.user_data(body.get("userData")))
    container, intent = _count_in(kind, container_id, person.person_id)
    try:
        repository.persons().insert(repository.person_to_row(container.incarnation, person))
        repository.confirm_container(container)
    except NotFound:
        # Deleted while the row was written: the delete's scan may have missed the row, and it
        # released the counts already (it read them after this reservation).
        repository.persons().delete(container.incarnation, person.person_id)
        intents.resolve(repository.containers(), intent)
        raise
    intents.resolve(repository.containers(), intent)
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
    """Count the person out with a ``delete-person`` intent (a racing delete of the same
    person meets that intent and answers 404), then ``finish_delete``."""
    def payload(container: Container) -> dict:
        person = repository.get_person(container.incarnation, person_id)
        return _payload(container, person_id, faces=person.face_ids)

    finish_delete(kind, count_member_out(kind, container_id, "person", person_id, DELETE, payload,
                                         lambda container: _count_out(kind, container),
                                         lambda: repository.person_not_found(person_id)))


def finish_delete(kind: ContainerKind, intent: intents.Intent) -> None:
    """Tombstones first (searches on the current snapshot drop the person at once), then the
    person row as last read (ETag match, so its face list is final: an add linking a face
    later fails its link and removes its own row), then its faces; idempotent."""
    payload = intent.payload
    incarnation, person_id = payload["incarnation"], payload["person"]
    if postgres_index.applies(kind):
        postgres_index.remove_person(incarnation, person_id)
    try:
        person = repository.delete_person(incarnation, person_id, lambda read: repository.add_tombstones(
            kind, payload["id"], [read.person_id, *read.face_ids]))
        face_ids = person.face_ids
    except NotFound:  # an earlier finisher deleted the row (and wrote the tombstones before)
        face_ids = payload["faces"]
    repository.delete_faces(incarnation, face_ids)
    intents.resolve(repository.containers(), intent)


def settle_create(kind: ContainerKind, intent: intents.Intent) -> None:
    """A create whose request is over: the person is kept if its row exists, else its counts go back."""
    settle_added_member(kind, intent, repository.persons(), intent.payload["person"],
                        lambda container: _count_out(kind, container))


def _count_out(kind: ContainerKind, container: Container) -> list[tuple]:
    """The operations giving back the group's and the subscription's count of one person."""
    container.person_count = bounded(container.person_count, -1, None, "persons")
    return [repository.container_change(container), repository.kind_counts(kind).change(persons=-1)]


def _count_in(kind: ContainerKind, container_id: str, person_id: str) -> tuple[Container, intents.Intent]:
    """Count the person against the group limit and the subscription limit, with its intent."""
    reserved: list = []

    def counted_in() -> list[tuple]:
        container = repository.get_container(kind, container_id)
        counts = repository.kind_counts(kind)
        container.person_count = bounded(container.person_count, 1, quotas.limit(kind, "persons"),
                                         f"persons in the {kind.display}")
        intent = intents.Intent(kind.key, _subject(container.incarnation, person_id), CREATE,
                                _payload(container, person_id))
        reserved[:] = [container, intent]
        return [repository.container_change(container),
                counts.change(persons=1, person_limit=quotas.limit(kind, "persons_total")), intent.create()]

    results = settle(repository.containers(), counted_in)
    return reserved[0], reserved[1].stored(results[2])


def _payload(container: Container, person_id: str, **extra) -> dict:
    return {"id": container.container_id, "incarnation": container.incarnation, "person": person_id, **extra}


def _subject(incarnation: str, person_id: str) -> str:
    return member_subject(incarnation, "person", person_id)

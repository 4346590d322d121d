"""Container lifecycle: create, read, update, list and delete (all four kinds).

A container row and its kind's counts row share a partition, so creating or deleting a
container changes the count in the same transaction: no crash or lost answer leaves the
count off by one.

Delete, in order: (1) one transaction removes the container row as last read (from then on
it is 404 everywhere and its queued training is dropped), releases its counts and writes a
``delete-container`` intent; (2) its snapshot blobs go (few, and the largest store of
templates); (3) then its face rows, person rows and tombstones; (4) the intent is resolved.
If the request dies or times out after (1), the intent is finished by a retried DELETE of the
same id (which answers 200 once it has finished the work) or by the next sweep on any
instance (``pending.finish_interrupted``, every FACE_SWEEP_SCHEDULE run). A write racing
with the delete either lands before the row scan (and goes with it) or finds the container
gone afterwards and undoes itself (``repository.confirm_container``); rows a crash leaves
even so are removed by ``orphans.sweep_rows``.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable

from shared.clock import timestamp
from shared.engine.engine import embedder_for
from shared.errors import Conflict, NotFound
from shared.galleries import postgres_index, quotas, repository, snapshots, validation
from shared.galleries.kinds import ContainerKind
from shared.galleries.records import Container, patched
from shared.storage.rows import settle
from shared.storage import intents
from shared.storage.tables import Table

DELETE = "delete-container"


def create(kind: ContainerKind, container_id: str, body: dict) -> Container:
    recognition_model = validation.recognition_model(body.get("recognitionModel"))
    container = Container(
        kind=kind, container_id=container_id,
        name=validation.name(body.get("name"), required=True),
        user_data=validation.user_data(body.get("userData")),
        recognition_model=recognition_model,
        incarnation=uuid.uuid4().hex, created=timestamp(),
        embedder=embedder_for(recognition_model),
    )

    def counted_insert() -> list[tuple]:
        if repository.find_container(kind, container_id) is not None:
            raise _exists(kind, container_id)
        counts = repository.kind_counts(kind)
        return [("create", repository.container_to_row(container)),
                counts.change(containers=1, container_limit=quotas.limit(kind, "containers"))]

    settle(repository.containers(), counted_insert)
    return container


def update(kind: ContainerKind, container_id: str, body: dict) -> None:
    name = validation.name(body.get("name"), required=False)
    user_data = validation.user_data(body.get("userData"))
    repository.update_container(kind, container_id, lambda container: patched(container, name, user_data))


def delete(kind: ContainerKind, container_id: str) -> None:
    intent: list[intents.Intent] = []

    def counted_removal() -> list[tuple]:
        container = repository.find_container(kind, container_id)
        if container is None:
            raise repository.container_not_found(kind, container_id)
        counts = repository.kind_counts(kind)
        intent[:] = [intents.Intent(kind.key, _subject(container_id, container.incarnation), DELETE,
                                    {"id": container_id, "incarnation": container.incarnation})]
        return [repository.container_removal(container), counts.change(containers=-1, persons=-container.person_count),
                intent[0].create()]

    try:
        results = settle(repository.containers(), counted_removal)
    except NotFound:
        if not _finish_pending_delete(kind, container_id):
            raise
        return
    finish_delete(kind, intent[0].stored(results[2]))


def finish_delete(kind: ContainerKind, intent: intents.Intent) -> None:
    """Steps (2)-(4) of a delete; every step is idempotent, so any number of finishers may
    run at once (the request, a retry, the sweep)."""
    container_id, incarnation = intent.payload["id"], intent.payload["incarnation"]
    gone = Container(kind=kind, container_id=container_id, name="", user_data=None, recognition_model="",
                     incarnation=incarnation, created="")
    if postgres_index.applies(kind):
        postgres_index.drop(incarnation)
    snapshots.delete_all(gone)
    snapshots.forget(gone)
    repository.drop_rows(incarnation)
    if repository.find_container(kind, container_id) is None:
        # Tombstones are keyed by container id: a container created again under this id
        # keeps its own (its next training drops the ones it no longer needs).
        repository.drop_tombstones(kind, container_id, repository.tombstones(kind, container_id))
    table = repository.containers()
    for pending in intents.pending(table, kind.key, incarnation_subjects(incarnation)):
        intents.resolve(table, pending)  # changes of persons and faces the delete made moot
    intents.resolve(table, intent)


def _finish_pending_delete(kind: ContainerKind, container_id: str) -> bool:
    """A DELETE of a container whose row is gone but whose earlier delete is unfinished (the
    client retried after a timeout, or the first request died): finish that delete and
    succeed, instead of answering 404 and leaving its work to the sweep."""
    unfinished = list(intents.pending(repository.containers(), kind.key, _subject(container_id, "")))
    for intent in unfinished:
        finish_delete(kind, intent)
    return bool(unfinished)


def member_subject(incarnation: str, member: str, member_id: str) -> str:
    """The intent subject of a person or face (``member``) of one container incarnation."""
    return f"{incarnation_subjects(incarnation)}{member}:{member_id}"


def count_member_out(kind: ContainerKind, container_id: str, member: str, member_id: str, action: str,
                     payload: Callable[[Container], dict], count_out: Callable[[Container], list[tuple]],
                     missing: Callable[[], Exception]) -> intents.Intent:
    """Count a member (person, list face) out of its container with its delete intent (``action``),
    in one transaction, and return the stored intent. ``payload(container)`` reads the member
    (404 when it is gone) and gives the intent's payload, ``count_out(container)`` the count
    changes. A racing delete of the same member meets this intent and gets ``missing()``; a
    create of it still pending is taken over."""
    table, claimed = repository.containers(), []

    def counted_out() -> list[tuple]:
        container = repository.get_container(kind, container_id)  # first: its ETag guards the rest
        details = payload(container)
        subject = member_subject(container.incarnation, member, member_id)
        current = intents.read(table, kind.key, subject)
        if current is not None and current.action == action:
            raise missing()  # another delete owns it
        intent = intents.Intent(kind.key, subject, action, details)
        claimed[:] = [intent]
        return [*count_out(container), intent.create() if current is None else intent.replacing(current)]

    results = settle(table, counted_out)
    return claimed[0].stored(results[-1])


def settle_added_member(kind: ContainerKind, intent: intents.Intent, rows: Table, member_id: str,
                        count_out: Callable[[Container], list[tuple]]) -> None:
    """An unresolved create of a member (person, list face) old enough that its request is
    over: kept if its row was written, else counted out again (``count_out`` gives the
    operations) in one transaction with resolving the intent."""
    table, incarnation = repository.containers(), intent.payload["incarnation"]

    def counted_back() -> list[tuple]:
        current = intents.read(table, kind.key, intent.subject)
        if current is None or current.etag != intent.etag:
            return []  # resolved or taken over meanwhile
        container = repository.find_container(kind, intent.payload["id"])
        if container is None or container.incarnation != incarnation:
            rows.delete(incarnation, member_id)  # its container's delete released the counts
            return [intent.resolve()]
        if rows.get(incarnation, member_id) is not None:
            return [intent.resolve()]
        return [*count_out(container), intent.resolve()]

    settle(table, counted_back)


def incarnation_subjects(incarnation: str) -> str:
    """The subject prefix of every person and face intent of one incarnation."""
    return f"{incarnation}:"


def _subject(container_id: str, incarnation: str) -> str:
    # ":" cannot occur in a container id (nor "/", which table keys do not allow): "<id>:"
    # prefixes only that id's intents.
    return f"container:{container_id}:{incarnation}"


def listing(kind: ContainerKind, start: str, top: int, return_recognition_model: bool) -> list[dict]:
    return [c.as_json(return_recognition_model) for c in repository.list_containers(kind, start, top)]


def _exists(kind: ContainerKind, container_id: str) -> Conflict:
    return Conflict(f"{kind.label} '{container_id}' already exists.", code=kind.exists_code)

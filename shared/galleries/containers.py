"""Container lifecycle: create, read, update, list and delete (all four kinds)."""
from __future__ import annotations

import uuid

from shared.clock import timestamp
from shared.errors import Conflict
from shared.galleries import quotas, repository, snapshots, validation
from shared.galleries.kinds import ContainerKind
from shared.galleries.records import Container, patched
from shared.storage.tables import EntityExists


def containers_counter(kind: ContainerKind) -> str:
    return f"{kind.key}-containers"


def persons_counter(kind: ContainerKind) -> str:
    return f"{kind.key}-persons"


def create(kind: ContainerKind, container_id: str, body: dict) -> Container:
    container = Container(
        kind=kind, container_id=container_id,
        name=validation.name(body.get("name"), required=True),
        user_data=validation.user_data(body.get("userData")),
        recognition_model=validation.recognition_model(body.get("recognitionModel")),
        incarnation=uuid.uuid4().hex, created=timestamp(),
    )
    if repository.find_container(kind, container_id) is not None:
        raise _exists(kind, container_id)
    counters = repository.counters()
    counters.add(containers_counter(kind), 1, quotas.limit(kind, "containers"), f"{kind.display}s")
    try:
        repository.containers().insert(repository.container_to_row(container))
    except EntityExists:
        counters.add(containers_counter(kind), -1, None, f"{kind.display}s")
        raise _exists(kind, container_id) from None
    return container


def update(kind: ContainerKind, container_id: str, body: dict) -> None:
    name = validation.name(body.get("name"), required=False)
    user_data = validation.user_data(body.get("userData"))
    repository.update_container(kind, container_id, lambda container: patched(container, name, user_data))


def delete(kind: ContainerKind, container_id: str) -> None:
    """Remove the container row first: from then on it is 404 everywhere and its queued
    training work is discarded; then its rows and snapshot blobs go. A write racing with
    this either lands before the row scan (and goes with it) or finds the container gone
    afterwards and undoes itself (``repository.confirm_container``); rows a crash leaves
    behind are removed by ``orphans.sweep``."""
    container = repository.delete_container(kind, container_id)
    repository.drop_partitions(container)
    snapshots.delete_all(container)
    snapshots.forget(container)
    counters = repository.counters()
    counters.add(containers_counter(kind), -1, None, f"{kind.display}s")
    if container.person_count:
        counters.add(persons_counter(kind), -container.person_count, None, "persons")


def listing(kind: ContainerKind, start: str, top: int, return_recognition_model: bool) -> list[dict]:
    return [c.as_json(return_recognition_model) for c in repository.list_containers(kind, start, top)]


def _exists(kind: ContainerKind, container_id: str) -> Conflict:
    return Conflict(f"{kind.label} '{container_id}' already exists.", code=kind.exists_code)

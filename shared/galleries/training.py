"""Training: a train request queues work; the queue worker builds and publishes a snapshot.

Each request starts a long-running operation and queues {kind, id, incarnation, generation + 1,
operation}, then records that generation and operation on the container row. The worker drops a message whose container is gone, was re-created
(incarnation differs) or was asked to train again since (generation differs); a message one
generation ahead of the row, with no training under way, is a request not recorded yet, and
the worker records it itself. Publishing is
atomic for readers: the snapshot blob is written first, then the container row is switched
to it under an ETag match; older snapshot blobs and tombstones the new snapshot no longer
needs are removed afterwards.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import numpy as np

from shared import clock
from shared.errors import Conflict, NotFound
from shared.galleries import postgres_index, repository, snapshots
from shared.galleries.kinds import KINDS, ContainerKind
from shared.galleries.records import Container
from shared.galleries.training_status import FAILED, NOT_STARTED, RUNNING, SUCCEEDED, TrainingState
from shared.index.gallery import EmbedderInfo, build_index
from shared.operations import store as operations
from shared.operations.store import Operation
from shared.settings import env_int
from shared.storage.outages import is_outage
from shared.storage.queues import WorkQueue

logger = logging.getLogger(__name__)
QUEUE = "training"


OPERATION_KIND = "train"
_ABANDONED = "The training was abandoned: its worker stopped responding."
_SUPERSEDED = "The training was superseded: its container was deleted, re-created or trained again."


class Superseded(Exception):
    """The container changed under the worker (deleted, re-created or re-queued)."""


def request(kind: ContainerKind, container_id: str) -> Operation:
    """Queue a training; 409 while one is still pending or running, 429 while the training
    queue is full. The training is also a long-running operation (shared/operations) that
    follows the training status.

    The operation and the message are written before the container row records the request,
    so no request is ever recorded with no work queued (which would block training until
    FACE_TRAINING_TIMEOUT_SECONDS). A worker that gets the message before the row records it
    (a fast worker, or a request that failed after sending) records it itself (``_claim``);
    a message whose request lost to another one is dropped as superseded, failing its operation."""
    container = repository.get_container(kind, container_id)
    _refuse_if_training(container)
    generation = container.generation + 1
    queue = WorkQueue(QUEUE)
    queue.check_room()
    operation = operations.start(OPERATION_KIND, f"{kind.route}/{container_id}/training", status=NOT_STARTED)
    try:
        queue.send({"kind": kind.key, "id": container_id, "incarnation": container.incarnation,
                    "generation": generation, "operation": operation.operation_id})
    except Exception:
        _report(operation.operation_id, FAILED, "Could not queue the training.")
        raise
    abandoned: list[str] = []

    def start(current: Container) -> Container:
        if current.incarnation != container.incarnation:
            raise repository.container_not_found(kind, container_id)
        if current.generation == generation:
            return current  # the worker already took this request up
        if current.generation != container.generation:  # another train request came first
            raise _still_training(kind, container_id)
        _refuse_if_training(current)
        state = current.training
        abandoned[:] = [current.training_operation] if state is not None and state.in_progress else []
        current.generation = generation
        current.training = TrainingState(NOT_STARTED, current.created, clock.timestamp(),
                                         state.last_success if state else None)
        current.training_operation = operation.operation_id
        return current

    repository.update_container(kind, container_id, start)
    for previous in abandoned:
        _report(previous, FAILED, _ABANDONED)
    return operation


def _refuse_if_training(container: Container) -> None:
    if _under_way(container):
        raise _still_training(container.kind, container.container_id)


def _under_way(container: Container) -> bool:
    state = container.training
    return state is not None and state.in_progress and not _stale(state)


def _still_training(kind: ContainerKind, container_id: str) -> Conflict:
    return Conflict(f"{kind.label} '{container_id}' is still training.", code=kind.training_conflict_code)


def _report(operation_id: str | None, status: str, message: str | None = None) -> None:
    """Mirror a training state change on its operation (gone when it expired: nothing to do)."""
    if not operation_id:
        return
    try:
        operations.advance(operation_id, status, message)
    except NotFound:
        pass


def _timeout() -> timedelta:
    return timedelta(seconds=env_int("FACE_TRAINING_TIMEOUT_SECONDS", 3600))


def _stale(state: TrainingState) -> bool:
    """A training whose worker died must not block new trainings forever."""
    started = clock.parse(state.last_action or state.created)
    return clock.now() - started > _timeout()


def fail_abandoned() -> int:
    """Fail the operations of trainings with no progress for FACE_TRAINING_TIMEOUT_SECONDS (the
    sweep runs this); the container's status follows at its next train request."""
    abandoned = list(operations.abandoned(_timeout(), kinds=(OPERATION_KIND,)))
    for operation in abandoned:
        _report(operation.operation_id, FAILED, _ABANDONED)
    return len(abandoned)


def run(message: dict) -> None:
    """The queue worker's job for one message."""
    kind = KINDS.get(message.get("kind", ""))
    if kind is None:
        logger.warning("training message for unknown kind dropped: %s", message)
        return
    try:
        container = _claim(kind, message)
    except Superseded:
        logger.info("training message superseded, dropped: %s", message)
        _report(message.get("operation"), FAILED, _SUPERSEDED)
        return
    _report(container.training_operation, RUNNING)
    try:
        _train(kind, container)
    except Superseded:
        logger.info("training of %s/%s superseded while running", kind.key, container.container_id)
        _report(container.training_operation, FAILED, _SUPERSEDED)
    except Exception as err:  # the failure is reported through the training status
        if is_outage(err):
            raise  # storage is away, not the training at fault: the host delivers the message again
        logger.exception("training of %s/%s failed", kind.key, container.container_id)
        _finish(kind, container, FAILED, f"Training failed: {type(err).__name__}.")


def _claim(kind: ContainerKind, message: dict) -> Container:
    generation = int(message["generation"])

    def mark_running(container: Container) -> Container:
        if container.generation == generation - 1 and container.incarnation == message["incarnation"]:
            if _under_way(container):
                raise Superseded()
            container.generation = generation  # the request that sent this has not recorded it (yet)
            container.training_operation = message.get("operation", "")
        else:
            _check_current(container, message["incarnation"], generation)
            if container.training is None or container.training.status not in (NOT_STARTED, RUNNING):
                raise Superseded()
        last_success = container.training.last_success if container.training else None
        container.training = TrainingState(RUNNING, container.created, clock.timestamp(), last_success)
        return container

    try:
        return repository.update_container(kind, message["id"], mark_running)
    except NotFound:
        raise Superseded() from None


def _check_current(container: Container, incarnation: str, generation: int) -> None:
    if container.incarnation != incarnation or container.generation != generation:
        raise Superseded()


def _train(kind: ContainerKind, container: Container) -> None:
    face_ids, person_ids, vectors, embedder = _gallery(kind, container)
    if not face_ids:
        _finish(kind, container, FAILED, f"There is no face in the {kind.display}.")
        return
    if postgres_index.applies(kind):
        _finish(kind, container, SUCCEEDED, None, postgres_index.publish(container, face_ids, person_ids, vectors))
        snapshots.delete_all(container)  # a snapshot from before the engine was switched is not used
    else:
        _publish_snapshot(kind, container, build_index(vectors, np.arange(len(face_ids)), face_ids, person_ids,
                                                       embedder=embedder))
    hidden = repository.tombstones(kind, container.container_id)
    repository.drop_tombstones(kind, container.container_id, hidden - set(face_ids) - set(filter(None, person_ids)))


def _publish_snapshot(kind: ContainerKind, container: Container, index) -> None:
    blob = snapshots.write(container, index)
    try:
        _finish(kind, container, SUCCEEDED, None, blob)
    except Superseded:
        snapshots.delete(blob)
        raise
    snapshots.prune(container, keep=blob)


def _gallery(kind: ContainerKind, container: Container):
    """Live faces with their person (None in face lists) and vectors, in a stable order."""
    live_faces = None
    if kind.has_persons:
        live_faces = {face_id: p.person_id for p in repository.all_persons(container.incarnation)
                      for face_id in p.face_ids}
    hidden = repository.tombstones(kind, container.container_id)
    face_ids, person_ids, vectors, embedders = [], [], [], set()
    for face, template in repository.face_templates(container.incarnation):
        if face.face_id in hidden or (live_faces is not None and live_faces.get(face.face_id) != face.person_id):
            continue
        face_ids.append(face.face_id)
        person_ids.append(face.person_id or None)
        vectors.append(template.vector)
        embedders.add((template.embedder, template.embedder_version))
    if len(embedders) > 1:
        raise ValueError(f"templates from several embedders: {sorted(embedders)}")
    embedder = EmbedderInfo(*embedders.pop()) if embedders else EmbedderInfo()
    matrix = np.vstack(vectors).astype(np.float32) if vectors else np.empty((0, 0), np.float32)
    return face_ids, person_ids, matrix, embedder


def _finish(kind: ContainerKind, started: Container, status: str, message: str | None, blob: str = "") -> None:
    def settle(container: Container) -> Container:
        _check_current(container, started.incarnation, started.generation)
        previous = container.training_state()
        now = clock.timestamp()
        container.training = TrainingState(status, container.created, now,
                                           now if status == SUCCEEDED else previous.last_success, message)
        if blob:
            container.snapshot = blob
        return container

    try:
        repository.update_container(kind, started.container_id, settle)
    except NotFound:
        raise Superseded() from None
    _report(started.training_operation, status, message)

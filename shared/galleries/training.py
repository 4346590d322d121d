"""Training: a train request queues work; the queue worker builds and publishes a snapshot.

Each request bumps the container's ``generation`` and queues {kind, id, incarnation,
generation}. The worker drops a message whose container is gone, was re-created
(incarnation differs) or was asked to train again since (generation differs). Publishing is
atomic for readers: the snapshot blob is written first, then the container row is switched
to it under an ETag match; older snapshot blobs and tombstones the new snapshot no longer
needs are removed afterwards.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import numpy as np

from shared import clock
from shared.errors import Conflict, NotFound
from shared.galleries import repository, snapshots
from shared.galleries.kinds import KINDS, ContainerKind
from shared.galleries.records import Container
from shared.galleries.training_status import FAILED, NOT_STARTED, RUNNING, SUCCEEDED, TrainingState
from shared.index.gallery import EmbedderInfo, build_index
from shared.operations import store as operations
from shared.operations.store import Operation
from shared.settings import env_int
from shared.storage.queues import WorkQueue

logger = logging.getLogger(__name__)
QUEUE = "training"
POLL_AFTER_SECONDS = 1


OPERATION_KIND = "train"
_ABANDONED = "The training was abandoned: its worker stopped responding."
_SUPERSEDED = "The training was superseded: its container was deleted, re-created or trained again."


class Superseded(Exception):
    """The container changed under the worker (deleted, re-created or re-queued)."""


def request(kind: ContainerKind, container_id: str) -> tuple[Container, Operation]:
    """Queue a training; 409 while one is still pending or running. The training is also a
    long-running operation (shared/operations) that follows the training status."""
    operation_id = str(uuid.uuid4())
    abandoned: list[str] = []

    def start(container: Container) -> Container:
        state = container.training
        if state is not None and state.in_progress and not _stale(state):
            raise Conflict(f"{kind.label} '{container_id}' is still training.", code=kind.training_conflict_code)
        abandoned[:] = [container.training_operation] if state is not None and state.in_progress else []
        container.generation += 1
        container.training = TrainingState(NOT_STARTED, container.created, clock.timestamp(),
                                           state.last_success if state else None)
        container.training_operation = operation_id
        return container

    container = repository.update_container(kind, container_id, start)
    for previous in abandoned:
        _report(previous, FAILED, _ABANDONED)
    try:
        operation = operations.start(OPERATION_KIND, f"{kind.route}/{container_id}/training", status=NOT_STARTED,
                                     operation_id=operation_id)
        WorkQueue(QUEUE).send({"kind": kind.key, "id": container_id, "incarnation": container.incarnation,
                               "generation": container.generation, "operation": operation_id})
    except Exception:
        _finish(kind, container, FAILED, "Could not queue the training.")
        raise
    return container, operation


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
    started = datetime.fromisoformat((state.last_action or state.created).replace("Z", "+00:00"))
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
        logger.exception("training of %s/%s failed", kind.key, container.container_id)
        _finish(kind, container, FAILED, f"Training failed: {type(err).__name__}.")


def _claim(kind: ContainerKind, message: dict) -> Container:
    def mark_running(container: Container) -> Container:
        _check_current(container, message["incarnation"], int(message["generation"]))
        if container.training is None or container.training.status not in (NOT_STARTED, RUNNING):
            raise Superseded()
        container.training = TrainingState(RUNNING, container.created, clock.timestamp(),
                                           container.training.last_success)
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
    index = build_index(vectors, np.arange(len(face_ids)), face_ids, person_ids, embedder=embedder)
    blob = snapshots.write(container, index)
    try:
        _finish(kind, container, SUCCEEDED, None, blob)
    except Superseded:
        snapshots.delete(blob)
        raise
    snapshots.prune(container, keep=blob)
    hidden = repository.tombstones(kind, container.container_id)
    repository.drop_tombstones(kind, container.container_id, hidden - set(face_ids) - set(filter(None, person_ids)))


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

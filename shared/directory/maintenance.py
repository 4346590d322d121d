"""The directory's part of the timer sweep.

- Operations still running after FACE_OPERATION_TIMEOUT_SECONDS (default 600; the Functions
  host stops a request after 10 minutes) belong to a process that died midway. Their rows say
  what was being done: a face add is finished if its face was linked to the person, else undone;
  face and person deletes are carried to the end (every step is idempotent); a dynamic group
  change is failed ("interrupted"), its memberships as far as they got (each one is whole).
- Compactions are queued where the delta reached FACE_DIRECTORY_DELTA_LIMIT and none is
  queued or running, where removals have waited FACE_DIRECTORY_PURGE_SECONDS (default 3600:
  deleted templates leave the published snapshot, its pack and the journal within that time),
  and where a compaction's claim went stale (its worker died).
- Journal entries a published snapshot holds, and blobs no head names (left by a compaction
  that died, or superseded), are deleted.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from shared import clock
from shared.directory import artifacts, faces, groups, journal, persons, repository, searchable
from shared.directory.journal import ADD, Entry, Head
from shared.directory.records import DynamicGroup
from shared.engine.types import RECOGNITION_MODELS
from shared.operations import store as operations
from shared.operations.status import FAILED, SUCCEEDED
from shared.operations.store import Operation
from shared.settings import env_int

INTERRUPTED = "The operation was interrupted before it finished; send the request again."


def sweep() -> int:
    """Everything above; returns how many operations, compactions and leftovers it handled."""
    return finish_abandoned() + sum(_maintain(model) for model in RECOGNITION_MODELS)


# ---------------------------------------------------------------- abandoned operations

def _resume_add(operation: Operation) -> tuple[str, str | None]:
    """In the person's pack (step 1 done): commit its journal entry (again: a repeated add is
    harmless) and succeed; else undo whatever happened."""
    person_id, model, face_id = (operation.detail[name] for name in ("personId", "model", "faceId"))
    face = repository.find_pack(person_id, model).find(face_id)
    if face is not None and repository.find_person(person_id) is not None:
        searchable.commit(model, [Entry(ADD, person_id, face_id, face.template)])
        return SUCCEEDED, None
    faces.undo_add(person_id, model, [face_id])
    return FAILED, INTERRUPTED


def _resume_face_delete(operation: Operation) -> tuple[str, str | None]:
    faces.finish_delete(operation.detail["personId"], operation.detail["model"], operation.detail["faceId"])
    return SUCCEEDED, None


def _resume_person_delete(operation: Operation) -> tuple[str, str | None]:
    persons.finish_delete(operation.detail["personId"])
    return SUCCEEDED, None


def _resume_group_delete(operation: Operation) -> tuple[str, str | None]:
    detail = operation.detail
    current = groups.find(detail["groupId"])
    if current is not None and current.incarnation == detail["incarnation"]:
        return FAILED, INTERRUPTED  # died before deleting the group row: nothing happened
    groups.drop_members(DynamicGroup(detail["groupId"], "", None, detail["incarnation"]))
    return SUCCEEDED, None


def _interrupted(_: Operation) -> tuple[str, str | None]:
    return FAILED, INTERRUPTED


RESUMERS: dict[str, Callable[[Operation], tuple[str, str | None]]] = {
    faces.ADD_KIND: _resume_add,
    faces.DELETE_KIND: _resume_face_delete,
    persons.DELETE_KIND: _resume_person_delete,
    groups.DELETE_KIND: _resume_group_delete,
    groups.CREATE_KIND: _interrupted,
    groups.UPDATE_KIND: _interrupted,
}


def finish_abandoned() -> int:
    handled = 0
    for operation in operations.abandoned(operations.timeout(), kinds=tuple(RESUMERS)):
        status, message = RESUMERS[operation.kind](operation)
        operations.advance(operation.operation_id, status, message)
        handled += 1
    return handled


# ---------------------------------------------------------------- compactions and leftovers

def _maintain(model: str) -> int:
    head = journal.read_head(model)
    if not head.seq:
        return 0
    handled = 0
    if _compaction_due(head):
        journal.change_head(model, lambda current: replace(current, compaction_queued=clock.now()))
        journal.request_compaction(model)
        handled += 1
    if head.snapshot_seq:
        handled += journal.drop_through(model, head.snapshot_seq)
    return handled + _remove_leftover_blobs(model, head)


def _compaction_due(head: Head) -> bool:
    now = clock.now()
    if head.compaction:  # claimed: due again only when the claim went stale (its worker died)
        return not head.claim_live(now)
    purge = head.removals_since is not None and \
        (now - head.removals_since).total_seconds() >= env_int("FACE_DIRECTORY_PURGE_SECONDS", 3600)
    return (head.delta >= journal.delta_limit() or purge) and not journal.compaction_pending(head, now)


def _remove_leftover_blobs(model: str, head: Head) -> int:
    """Blobs the head does not name: superseded ones, and those of a run that is not live."""
    published = {head.snapshot, head.pack, head.removed}
    running = head.claim_live(clock.now())
    removed = 0
    for blob in artifacts.names(model):
        if blob in published or (running and artifacts.position_of(blob) > head.snapshot_seq):
            continue
        artifacts.delete(blob)
        removed += 1
    return removed

"""Settling the gallery changes a crash, a storage outage or a lost answer left unfinished.

Each change of a container, person or list face that spans several writes leaves an intent
(shared.storage.intents) beside the container rows until it is done. The sweep timer runs
``finish_interrupted`` on every run (FACE_SWEEP_SCHEDULE, default every 5 minutes), on any
instance:
- deletes are finished at once, whatever their age: every step is idempotent, so finishing
  alongside a request still running is harmless, and a deleted container's snapshot blobs
  and rows never outlive a crash by more than one sweep period;
- creates and adds are settled only when older than FACE_ORPHAN_MIN_AGE_SECONDS (default
  600, longer than any request lives), so a request still writing its row is never undone
  under it: kept if the row exists, otherwise their count goes back.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from shared.galleries import containers, faces, orphans, persons, repository
from shared.galleries.kinds import KINDS, ContainerKind
from shared.storage import intents

logger = logging.getLogger(__name__)
Settle = Callable[[ContainerKind, intents.Intent], None]

FINISH: dict[str, Settle] = {
    containers.DELETE: containers.finish_delete,
    persons.DELETE: persons.finish_delete,
    faces.DELETE: faces.finish_list_delete,
    faces.DELETE_PERSON_FACE: faces.finish_person_face_delete,
}
SETTLE_WHEN_OVER: dict[str, Settle] = {
    persons.CREATE: persons.settle_create,
    faces.ADD: faces.settle_list_add,
}


def finish_interrupted() -> int:
    """Settle every unfinished change that is due; returns how many were settled."""
    cutoff = orphans.min_age_cutoff()
    table, settled = repository.containers(), 0
    for kind in KINDS.values():
        for intent in intents.pending(table, kind.key):
            action = FINISH.get(intent.action)
            if action is None and intent.written is not None and intent.written < cutoff:
                action = SETTLE_WHEN_OVER.get(intent.action)
            if action is None:
                continue
            try:
                action(kind, intent)
                settled += 1
            except Exception:  # one failing intent must not keep the others waiting
                logger.exception("settling %s %s failed", intent.action, intent.subject)
    return settled

"""Removal of expired short-lived data and of gallery data nothing owns any more.

Reads already refuse expired items (faceIds, operations, liveness sessions); the sweep
reclaims their storage. Gallery changes a crash or storage outage interrupted are finished or
undone on every run (shared.galleries.pending); gallery rows and snapshot blobs left behind by
a process that died mid-add are unreachable through the API, and the hourly orphan scans
delete them (shared.galleries.orphans). Operations whose process died are finished or undone,
and the directory's compactions queued when due (shared.directory.maintenance). Each sweeper
is idempotent and safe to run concurrently with another instance's sweep. Each kind of
short-lived data adds its sweeper to SWEEPERS (liveness sessions: shared.liveness.retention).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from shared import telemetry
from shared.directory import maintenance as directory
from shared.galleries import orphans, pending, training
from shared.liveness import retention
from shared.operations import store as operations
from shared.postgres.config import postgres_search
from shared.storage.faceids import FaceIdStore

logger = logging.getLogger(__name__)


def _sweep_face_ids() -> int:
    return FaceIdStore().sweep_expired()


def _reconcile_search_engine() -> int:
    if not postgres_search():
        return 0
    from shared.services import postgres_sync  # psycopg loads only where PostgreSQL is used

    return postgres_sync.sweep_reconcile()


def _vacuum_search_engine() -> int:
    if not postgres_search():
        return 0
    from shared.services import postgres_sync

    return postgres_sync.sweep_vacuum()


SWEEPERS: tuple[tuple[str, Callable[[], int]], ...] = (
    ("faceIds", _sweep_face_ids),
    ("interruptedGalleryChanges", pending.finish_interrupted),
    ("operations", operations.sweep_expired),
    ("abandonedTrainings", training.fail_abandoned),
    ("directory", directory.sweep),
    # After the resumed deletes and undone adds above; the reconciliation reads both sides whole.
    ("searchEngineReconciled", _reconcile_search_engine),
    ("searchEngineVacuumed", _vacuum_search_engine),
    ("orphanedGalleryRows", orphans.periodic("galleryRows", orphans.sweep_rows)),
    ("orphanedSnapshots", orphans.periodic("snapshots", orphans.sweep_snapshots)),
    ("livenessSessions", retention.sweep_sessions),
    ("livenessDevices", retention.sweep_devices),
    ("livenessAbuseObservations", retention.sweep_abuse_observations),
)


def sweep_expired() -> dict[str, int]:
    """Run every sweeper; returns how many items each removed."""
    removed = {}
    for name, sweeper in SWEEPERS:
        removed[name] = sweeper()
        telemetry.swept(name, removed[name])
        logger.info("sweep: removed %d %s", removed[name], name)
    return removed

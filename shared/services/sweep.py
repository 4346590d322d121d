"""Removal of expired short-lived data.

Reads already refuse expired items; the sweep reclaims their storage. Each sweeper is
idempotent and safe to run concurrently with another instance's sweep. Later kinds of
short-lived data (liveness sessions) add their sweeper to SWEEPERS.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from shared.storage.faceids import FaceIdStore

logger = logging.getLogger(__name__)


def _sweep_face_ids() -> int:
    return FaceIdStore().sweep_expired()


SWEEPERS: tuple[tuple[str, Callable[[], int]], ...] = (
    ("faceIds", _sweep_face_ids),
)


def sweep_expired() -> dict[str, int]:
    """Run every sweeper; returns how many items each removed."""
    removed = {}
    for name, sweeper in SWEEPERS:
        removed[name] = sweeper()
        logger.info("sweep: removed %d expired %s", removed[name], name)
    return removed

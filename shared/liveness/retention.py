"""The liveness part of the timer sweep.

* Sessions past retention (FACE_LIVENESS_RETENTION_SECONDS after creation, 48 h by default)
  lose everything: session row, entries, session images. Reads refuse them already at that
  moment; the sweep reclaims the storage.
* Session images whose session row is gone (a DELETE or an attempt that died half-way) are
  deleted whatever their age: no live session can ever reach them again, and an attempt
  only writes an image while its session row exists.
* Device rate-limit rows that left their window.
* Abuse-monitoring observations 48 hours after they were made, those whose session is gone,
  and all of them while monitoring is off (shared.liveness.abuse).
"""
from __future__ import annotations

from shared.liveness import abuse, devices, images, monitoring, sessions
from shared.liveness.store import SessionStore


def sweep_sessions() -> int:
    """Remove expired sessions and orphaned session images; returns sessions removed."""
    store = SessionStore()
    expired = store.expired_session_ids()
    for session_id in expired:
        sessions.purge(session_id)
    for session_id in list(images.session_ids()):
        if not store.exists(session_id):
            images.delete_all(session_id)
    return len(expired)


def sweep_devices() -> int:
    return devices.sweep_expired()


def sweep_abuse_observations() -> int:
    return abuse.sweep(monitoring.enabled(fresh=True), SessionStore().exists)

"""The service's notion of "now" (UTC).

Expiry rules (faceId time-to-live, later liveness tokens) read the clock here so tests can
move time forward without sleeping. The offset is honoured only when FACE_ALLOW_TEST_CLOCK
is true, so a stray FACE_CLOCK_OFFSET_SECONDS in production cannot extend a faceId's life.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.settings import env_bool, env_float


def now() -> datetime:
    current = datetime.now(timezone.utc)
    if env_bool("FACE_ALLOW_TEST_CLOCK"):
        current += timedelta(seconds=env_float("FACE_CLOCK_OFFSET_SECONDS", 0.0))
    return current


def timestamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as the API writes dates: RFC 3339 UTC with milliseconds."""
    moment = now() if moment is None else moment.astimezone(timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(moment: str) -> datetime:
    """A date as ``timestamp`` writes it (or any RFC 3339 UTC date), timezone-aware."""
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))

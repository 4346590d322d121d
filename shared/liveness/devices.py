"""Anti-hammering: attempts per deviceCorrelationId over a sliding window.

Each client request of a known device leaves a row (PartitionKey = a hash of the device id,
so the id itself is not stored here) that expires when it leaves the window. A device with
FACE_LIVENESS_DEVICE_ATTEMPTS rows inside FACE_LIVENESS_DEVICE_WINDOW_SECONDS is answered
429 with Retry-After = when its oldest request leaves the window. Refused requests count too
(Azure: calls on a revoked token still count toward rate limits), 429s do not. Two requests
racing at the limit may both pass (the window is counted, not locked): the bound is
approximate by at most the number of concurrent requests of one device.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from shared import clock
from shared.errors import TooManyRequests
from shared.settings import env_int
from shared.storage.tables import Table

TABLE = "livenessdevices"
EXPIRES_AT = "ExpiresAt"


def pseudonym(device_id: str) -> str:
    """A stable key for a client-chosen id (device or user) that does not reveal it."""
    return hashlib.sha256(device_id.encode("utf-8")).hexdigest()[:32]


def check_and_count(device_id: str) -> None:
    """Count one request of this device, or raise 429 when its window is full."""
    table, now = Table(TABLE), clock.now()
    window = timedelta(seconds=env_int("FACE_LIVENESS_DEVICE_WINDOW_SECONDS", 600))
    limit = env_int("FACE_LIVENESS_DEVICE_ATTEMPTS", 10)
    partition = pseudonym(device_id)
    live = sorted(row[EXPIRES_AT] for row in table.query("PartitionKey eq @pk and ExpiresAt gt @now",
                                                          {"pk": partition, "now": now}, select=[EXPIRES_AT]))
    if len(live) >= limit:
        raise TooManyRequests("Rate limit is exceeded for this device: too many liveness attempts. "
                              "Try again later.", (live[len(live) - limit] - now).total_seconds())
    table.insert({"PartitionKey": partition, "RowKey": f"{now.timestamp():017.6f}-{secrets.token_hex(4)}",
                  EXPIRES_AT: now + window})


def sweep_expired() -> int:
    return Table(TABLE).delete_matching("ExpiresAt le @now", {"now": clock.now()})

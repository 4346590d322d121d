"""One SDK service client per connection string, shared by every store in the process, and
the create-on-first-use of tables, containers and queues.

Every client gets the same bounded timeouts and retries (``_limits``, ``_timeouts`` and the
retry options below): the SDK defaults wait up to 300 s (Tables) or 60 s (Blobs, Queues) for
a silent server and back off for minutes between retries, which would hold a worker long
after the caller gave up. With
the defaults here a storage call that gets no answer fails after at most about
(FACE_STORAGE_RETRIES + 1) x FACE_STORAGE_TIMEOUT_SECONDS plus short backoffs, and the
request answers 503 with Retry-After (shared.storage.outages).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient, LinearRetry
from azure.storage.queue import LinearRetry as QueueLinearRetry
from azure.storage.queue import QueueServiceClient

from shared.settings import env_float, env_int
from shared.storage.naming import connection_string

_BACKOFF_SECONDS = 0.2

_created: set[tuple[str, str]] = set()
_created_lock = threading.Lock()


def table_service() -> TableServiceClient:
    return _table_service(connection_string(), *_limits())


def blob_service() -> BlobServiceClient:
    return _blob_service(connection_string(), *_limits())


def queue_service() -> QueueServiceClient:
    return _queue_service(connection_string(), *_limits())


def _limits() -> tuple[float, int]:
    """Seconds one storage attempt may wait (to connect, then for each read), and how many
    times a failed attempt is retried."""
    return env_float("FACE_STORAGE_TIMEOUT_SECONDS", 5.0), env_int("FACE_STORAGE_RETRIES", 2)


def _timeouts(timeout: float) -> dict:
    return {"connection_timeout": timeout, "read_timeout": timeout}


@lru_cache(maxsize=4)
def _table_service(conn: str, timeout: float, retries: int) -> TableServiceClient:
    # Tables never retry a write whose answer was lost (POST, ETag-matched replaces go as
    # transactions, see tables.py), so a retry cannot apply a change twice.
    return TableServiceClient.from_connection_string(
        conn, retry_total=retries, retry_backoff_factor=_BACKOFF_SECONDS, retry_backoff_max=1.0,
        **_timeouts(timeout))


@lru_cache(maxsize=4)
def _blob_service(conn: str, timeout: float, retries: int) -> BlobServiceClient:
    policy = LinearRetry(backoff=_BACKOFF_SECONDS, random_jitter_range=_BACKOFF_SECONDS, retry_total=retries)
    return BlobServiceClient.from_connection_string(conn, retry_policy=policy, **_timeouts(timeout))


@lru_cache(maxsize=4)
def _queue_service(conn: str, timeout: float, retries: int) -> QueueServiceClient:
    policy = QueueLinearRetry(backoff=_BACKOFF_SECONDS, random_jitter_range=_BACKOFF_SECONDS, retry_total=retries)
    return QueueServiceClient.from_connection_string(conn, retry_policy=policy, **_timeouts(timeout))


def create_once(service_url: str, name: str, create: Callable[[], object]) -> None:
    """Run ``create`` for a resource once per process, so a fresh storage account (or a fresh
    Azurite) needs no provisioning step; "already exists" counts as created."""
    key = (service_url, name)
    if key in _created:
        return
    with _created_lock:
        if key not in _created:
            try:
                create()
            except ResourceExistsError:
                pass
            _created.add(key)

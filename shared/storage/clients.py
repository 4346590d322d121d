"""One SDK service client per storage connection, shared by every store in the process, and
the create-on-first-use of tables, containers and queues.

Everything that talks to storage (the stores here, the devhost's queue listener) gets its
clients from the three ``*_service`` functions, so how clients authenticate is decided in
one place: a connection string (Azurite, account key), or an Entra ID token from
azure-identity for identity-based connections (a managed identity in Azure).

Every client gets the same bounded timeouts and retries (``_limits`` and ``_options``): the
SDK defaults wait up to 300 s (Tables) or 60 s (Blobs, Queues) for a silent server and back
off for minutes between retries, which would hold a worker long after the caller gave up.
With the defaults here a storage call that gets no answer fails after at most about
(FACE_STORAGE_RETRIES + 1) x FACE_STORAGE_TIMEOUT_SECONDS plus short backoffs, and the
request answers 503 with Retry-After (shared.storage.outages).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient, LinearRetry
from azure.storage.queue import LinearRetry as QueueLinearRetry
from azure.storage.queue import QueueServiceClient

from shared.settings import env_float, env_int
from shared.storage.naming import CONNECTION_SETTING, MANAGED_IDENTITY, StorageConnection, storage_connection

ServiceClient = TypeVar("ServiceClient", TableServiceClient, BlobServiceClient, QueueServiceClient)
_BACKOFF_SECONDS = 0.2
_created: set[tuple[str, str]] = set()
_created_lock = threading.Lock()


def table_service(connection: str = CONNECTION_SETTING) -> TableServiceClient:
    return _table_service(storage_connection(connection), *_limits())


def blob_service(connection: str = CONNECTION_SETTING) -> BlobServiceClient:
    return _blob_service(storage_connection(connection), *_limits())


def queue_service(connection: str = CONNECTION_SETTING) -> QueueServiceClient:
    return _queue_service(storage_connection(connection), *_limits())


def _limits() -> tuple[float, int]:
    """Seconds one storage attempt may wait (to connect, then for each read), and how many
    times a failed attempt is retried."""
    return env_float("FACE_STORAGE_TIMEOUT_SECONDS", 5.0), env_int("FACE_STORAGE_RETRIES", 2)


@lru_cache(maxsize=4)
def _table_service(conn: StorageConnection, timeout: float, retries: int) -> TableServiceClient:
    # Tables never retry a write whose answer was lost (POST, ETag-matched replaces go as
    # transactions, see tables.py), so a retry cannot apply a change twice.
    return _client(TableServiceClient, "table", conn, retry_total=retries, retry_backoff_factor=_BACKOFF_SECONDS,
                   retry_backoff_max=1.0, **_timeouts(timeout))


@lru_cache(maxsize=4)
def _blob_service(conn: StorageConnection, timeout: float, retries: int) -> BlobServiceClient:
    policy = LinearRetry(backoff=_BACKOFF_SECONDS, random_jitter_range=_BACKOFF_SECONDS, retry_total=retries)
    return _client(BlobServiceClient, "blob", conn, retry_policy=policy, **_timeouts(timeout))


@lru_cache(maxsize=4)
def _queue_service(conn: StorageConnection, timeout: float, retries: int) -> QueueServiceClient:
    policy = QueueLinearRetry(backoff=_BACKOFF_SECONDS, random_jitter_range=_BACKOFF_SECONDS, retry_total=retries)
    return _client(QueueServiceClient, "queue", conn, retry_policy=policy, **_timeouts(timeout))


def _timeouts(timeout: float) -> dict:
    return {"connection_timeout": timeout, "read_timeout": timeout}


def _client(client_class: type[ServiceClient], service: str, conn: StorageConnection, **options) -> ServiceClient:
    """A service client from the connection string, or from the service's endpoint with an
    Entra ID credential; ``options`` are the SDK's pipeline options (timeouts, retries)."""
    if conn.connection_string:
        return client_class.from_connection_string(conn.connection_string, **options)
    return client_class(conn.endpoint(service), credential=_credential(conn), **options)


@lru_cache(maxsize=4)
def _credential(conn: StorageConnection) -> TokenCredential:
    """One credential per identity, shared by the three services (it caches its tokens).
    Imported here so connection-string setups (Azurite) never load azure-identity."""
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

    client_id = conn.client_id or None
    if conn.credential == MANAGED_IDENTITY:
        return ManagedIdentityCredential(client_id=client_id)
    return DefaultAzureCredential(managed_identity_client_id=client_id)


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

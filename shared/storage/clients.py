"""One SDK service client per connection string, shared by every store in the process, and
the create-on-first-use of tables, containers and queues."""
from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from shared.storage.naming import connection_string

_created: set[tuple[str, str]] = set()
_created_lock = threading.Lock()


def table_service() -> TableServiceClient:
    return _table_service(connection_string())


def blob_service() -> BlobServiceClient:
    return _blob_service(connection_string())


def queue_service() -> QueueServiceClient:
    return _queue_service(connection_string())


@lru_cache(maxsize=4)
def _table_service(conn: str) -> TableServiceClient:
    return TableServiceClient.from_connection_string(conn)


@lru_cache(maxsize=4)
def _blob_service(conn: str) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(conn)


@lru_cache(maxsize=4)
def _queue_service(conn: str) -> QueueServiceClient:
    return QueueServiceClient.from_connection_string(conn)


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

"""One SDK service client per connection string, shared by every store in the process."""
from __future__ import annotations

from functools import lru_cache

from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from shared.storage.naming import connection_string


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

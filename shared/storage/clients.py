"""One SDK service client per storage connection, shared by every store in the process, and
the create-on-first-use of tables, containers and queues.

Everything that talks to storage (the stores here, the devhost's queue listener) gets its
clients from the three ``*_service`` functions, so how clients authenticate is decided in
one place: a connection string (Azurite, account key), or an Entra ID token from
azure-identity for identity-based connections (a managed identity in Azure).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from shared.storage.naming import CONNECTION_SETTING, MANAGED_IDENTITY, StorageConnection, storage_connection

ServiceClient = TypeVar("ServiceClient", TableServiceClient, BlobServiceClient, QueueServiceClient)
_created: set[tuple[str, str]] = set()
_created_lock = threading.Lock()


def table_service(connection: str = CONNECTION_SETTING) -> TableServiceClient:
    return _table_service(storage_connection(connection))


def blob_service(connection: str = CONNECTION_SETTING) -> BlobServiceClient:
    return _blob_service(storage_connection(connection))


def queue_service(connection: str = CONNECTION_SETTING) -> QueueServiceClient:
    return _queue_service(storage_connection(connection))


@lru_cache(maxsize=4)
def _table_service(conn: StorageConnection) -> TableServiceClient:
    return _client(TableServiceClient, "table", conn)


@lru_cache(maxsize=4)
def _blob_service(conn: StorageConnection) -> BlobServiceClient:
    return _client(BlobServiceClient, "blob", conn)


@lru_cache(maxsize=4)
def _queue_service(conn: StorageConnection) -> QueueServiceClient:
    return _client(QueueServiceClient, "queue", conn)


def _client(client_class: type[ServiceClient], service: str, conn: StorageConnection) -> ServiceClient:
    """A service client from the connection string, or from the service's endpoint with an
    Entra ID credential. Client options common to every service belong here."""
    if conn.connection_string:
        return client_class.from_connection_string(conn.connection_string)
    return client_class(conn.endpoint(service), credential=_credential(conn))


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

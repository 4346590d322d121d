"""Storage account connection and resource names.

A connection is named by a setting (``AzureWebJobsStorage`` for the app and its queue
triggers) and given the way the Functions host reads it: either a connection string under
the name itself (Azurite locally, or an account key), or identity-based settings under
``<name>__...``: ``__accountName`` (public cloud endpoints) or the three service URIs
``__blobServiceUri`` / ``__queueServiceUri`` / ``__tableServiceUri``, plus ``__credential``
(``managedidentity``) and ``__clientId`` (a user-assigned identity). A connection string
wins when both are present.

Every table, container and queue name starts with FACE_STORAGE_PREFIX so that test runs
(and several deployments sharing one account) stay isolated. The prefix is 1-20 lowercase
letters or digits starting with a letter, so it is valid in table, container and queue
names alike. Queue-triggered functions put queue_name(<base>) into their binding when the
app is imported (functions/training.py), so the worker listens where WorkQueue sends.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from shared.settings import env_str

CONNECTION_SETTING = "AzureWebJobsStorage"
MANAGED_IDENTITY = "managedidentity"
_SERVICES = ("blob", "queue", "table")
_PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,19}$")


@dataclass(frozen=True)
class StorageConnection:
    """A connection string, or per-service endpoints reached with an Entra ID credential."""

    connection_string: str = ""
    endpoints: tuple[tuple[str, str], ...] = ()  # (service, URI) for blob, queue, table
    credential: str = ""  # "managedidentity", or "" for azure-identity's default chain
    client_id: str = ""  # a user-assigned identity's client id; "" = system-assigned

    def endpoint(self, service: str) -> str:
        return dict(self.endpoints)[service]


def storage_connection(name: str = CONNECTION_SETTING) -> StorageConnection:
    """The connection the setting ``name`` describes; RuntimeError naming what is missing."""
    connection_string = env_str(name)
    if connection_string:
        return StorageConnection(connection_string=connection_string)
    account = env_str(f"{name}__accountName")
    endpoints = tuple((service, _service_uri(name, service, account)) for service in _SERVICES)
    missing = [f"{name}__{service}ServiceUri" for service, uri in endpoints if not uri]
    if missing:
        raise RuntimeError(f"setting {name} is not set, nor {name}__accountName or {', '.join(missing)}")
    return StorageConnection(endpoints=endpoints, credential=env_str(f"{name}__credential").lower(),
                             client_id=env_str(f"{name}__clientId"))


def _service_uri(name: str, service: str, account: str) -> str:
    explicit = env_str(f"{name}__{service}ServiceUri")
    if explicit:
        return explicit.rstrip("/")
    return f"https://{account}.{service}.core.windows.net" if account else ""


def prefix() -> str:
    value = env_str("FACE_STORAGE_PREFIX", "face")
    if not _PREFIX_PATTERN.match(value):
        raise RuntimeError("FACE_STORAGE_PREFIX must be 1-20 lowercase letters/digits, starting with a letter")
    return value


def table_name(base: str) -> str:
    """Tables allow only letters and digits."""
    return f"{prefix()}{base}"


def container_name(base: str) -> str:
    return f"{prefix()}-{base}"


def queue_name(base: str) -> str:
    return f"{prefix()}-{base}"

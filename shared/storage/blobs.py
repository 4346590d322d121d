"""A narrow blob interface over one container (created on first use)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import ContainerClient

from shared.storage.clients import blob_service, create_once
from shared.storage.naming import container_name


class BlobStore:
    def __init__(self, base_name: str):
        self.name = container_name(base_name)
        self._container = _ensure_container(self.name)

    def put(self, blob_name: str, source: bytes | BinaryIO) -> None:
        """Upload bytes, or a file object streamed in blocks (snapshots can be gigabytes)."""
        self._container.upload_blob(blob_name, source, overwrite=True)

    def get_into(self, blob_name: str, target: BinaryIO) -> bool:
        """Stream the blob into ``target``; False when there is no such blob."""
        try:
            self._container.download_blob(blob_name).readinto(target)
        except ResourceNotFoundError:
            return False
        return True

    def delete(self, blob_name: str) -> None:
        """Idempotent: deleting a missing blob is not an error."""
        try:
            self._container.delete_blob(blob_name)
        except ResourceNotFoundError:
            pass

    def names(self, prefix: str | None = None) -> Iterator[str]:
        return (blob.name for blob in self._container.list_blobs(name_starts_with=prefix))

    def sizes(self, prefix: str | None = None) -> Iterator[tuple[str, int]]:
        """(name, bytes) of each blob, from the listing alone (nothing is downloaded)."""
        return ((blob.name, int(blob.size or 0)) for blob in self._container.list_blobs(name_starts_with=prefix))


def _ensure_container(name: str) -> ContainerClient:
    service = blob_service()
    container = service.get_container_client(name)
    create_once(service.url, name, container.create_container)
    return container

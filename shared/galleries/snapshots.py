"""Trained index snapshots of a container in Blob Storage, encrypted, and their warm cache.

Blob names: ``<kind>/<container id>/<incarnation>/<generation>``; the container row's
``snapshot`` column names the published one. The bytes are E's snapshot format sealed with
AES-GCM bound to the blob name, so a snapshot copied under another name does not load.
"""
from __future__ import annotations

import io

from shared.galleries.records import Container
from shared.index.cache import SnapshotCache
from shared.index.gallery import GalleryIndex
from shared.index.snapshot import load_snapshot, write_snapshot
from shared.storage import crypto
from shared.storage.blobs import BlobStore

CONTAINER = "snapshots"


def store() -> BlobStore:
    return BlobStore(CONTAINER)


def _prefix(container: Container) -> str:
    return f"{container.kind.key}/{container.container_id}/{container.incarnation}/"


def _aad(blob: str) -> bytes:
    return f"gallery-snapshot\x1f{blob}".encode()


def write(container: Container, index: GalleryIndex) -> str:
    blob = f"{_prefix(container)}{container.generation:010d}"
    buffer = io.BytesIO()
    write_snapshot(index, buffer)
    store().put(blob, crypto.encrypt(buffer.getvalue(), _aad(blob)))
    return blob


def delete(blob: str) -> None:
    store().delete(blob)


def prune(container: Container, keep: str) -> None:
    """Delete this container incarnation's snapshots other than ``keep``."""
    blobs = store()
    for name in list(blobs.names(_prefix(container))):
        if name != keep:
            blobs.delete(name)


def delete_all(container: Container) -> None:
    prune(container, keep="")


def index(container: Container) -> GalleryIndex:
    """The container's published index, loaded once per process and kept warm."""
    key = f"{container.kind.key}/{container.container_id}"
    return CACHE.get(key, container.snapshot, _load)


def _load(blob: str) -> GalleryIndex:
    sealed = store().get(blob)
    if sealed is None:
        raise FileNotFoundError(blob)
    return load_snapshot(io.BytesIO(crypto.decrypt(sealed, _aad(blob))))


CACHE = SnapshotCache()

"""Trained index snapshots of a container in Blob Storage, encrypted, and their warm cache.

Blob names: ``<kind>/<container id>/<incarnation>/<generation>``; the container row's
``snapshot`` column names the published one. The bytes are E's snapshot format sealed with
AES-GCM bound to the blob name, so a snapshot copied under another name does not load.
"""
from __future__ import annotations

import io
import threading

from shared.galleries.records import Container
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


class SnapshotCache:
    """One warm index per container; reloaded when the row names a newer snapshot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, str], tuple[str, GalleryIndex]] = {}

    def index(self, container: Container) -> GalleryIndex:
        key = (container.kind.key, container.container_id)
        current = self._loaded.get(key)
        if current is not None and current[0] == container.snapshot:
            return current[1]
        with self._lock:
            current = self._loaded.get(key)
            if current is None or current[0] != container.snapshot:
                current = (container.snapshot, _load(container.snapshot))
                self._loaded[key] = current
        return current[1]


def _load(blob: str) -> GalleryIndex:
    sealed = store().get(blob)
    if sealed is None:
        raise FileNotFoundError(blob)
    return load_snapshot(io.BytesIO(crypto.decrypt(sealed, _aad(blob))))


CACHE = SnapshotCache()

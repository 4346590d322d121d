"""Trained index snapshots of a container in Blob Storage, encrypted, and their warm cache.

Blob names: ``<kind>/<container id>/<incarnation>/<generation>``; the container row's
``snapshot`` column names the published one.

Envelope encryption: each snapshot gets a fresh 256-bit data key that seals the snapshot
bytes in chunks (shared.index framing: bounded memory however big the index), and the data
key itself is sealed with the service key (shared.storage.crypto, so key rotation applies).
Both are bound to the blob name, so a snapshot copied under another name does not load.
Blob layout: u32 length of the sealed data key | sealed data key | framed stream.
"""
from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Callable
from typing import BinaryIO, TypeVar

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared import telemetry
from shared.galleries.records import Container
from shared.index.cache import SnapshotCache
from shared.index.framing import decrypt_stream, encrypt_stream, open_decrypted
from shared.index.gallery import GalleryIndex
from shared.index.snapshot import load_snapshot, write_snapshot
from shared.storage import crypto
from shared.storage.blobs import BlobStore

CONTAINER = "snapshots"
Opened = TypeVar("Opened")


def store() -> BlobStore:
    return BlobStore(CONTAINER)


def _prefix(container: Container) -> str:
    return f"{container.kind.key}/{container.container_id}/{container.incarnation}/"


def _aad(blob: str) -> bytes:
    return f"gallery-snapshot\x1f{blob}".encode()


_KEY_LENGTH = struct.Struct("<I")


def write(container: Container, index: GalleryIndex) -> str:
    blob = f"{_prefix(container)}{container.generation:010d}"
    put_index(blob, index)
    return blob


def put_index(blob: str, index: GalleryIndex) -> None:
    put_sealed(blob, lambda plain: write_snapshot(index, plain))


def load_index(blob: str) -> GalleryIndex:
    # Decrypted while loading: no decrypted copy of the snapshot is ever written, and only
    # the loaded index itself sits in memory (the reader authenticates every byte).
    kind = blob.split("/", 1)[0]
    with telemetry.index_load_timer(kind):
        return _with_sealed(blob, lambda sealed, aead: load_snapshot(open_decrypted(aead, sealed, _aad(blob)),
                                                                     authenticated=True))


def put_sealed(blob: str, write_plain: Callable[[BinaryIO], object]) -> None:
    """Upload what ``write_plain`` writes to a file, sealed under a fresh data key."""
    data_key = os.urandom(32)
    sealed_key = crypto.encrypt(data_key, _aad(blob))
    # Temporary files, not memory: a 1M-face snapshot is ~0.8 GB and must not exist twice in RAM.
    with tempfile.TemporaryFile() as plain, tempfile.TemporaryFile() as sealed:
        write_plain(plain)
        plain.seek(0)
        sealed.write(_KEY_LENGTH.pack(len(sealed_key)) + sealed_key)
        encrypt_stream(AESGCM(data_key), plain, sealed, _aad(blob))
        sealed.seek(0)
        store().put(blob, sealed)


def open_sealed(blob: str, read_plain: Callable[[BinaryIO], Opened]) -> Opened:
    """``read_plain`` of the blob's plaintext, decrypted and authenticated whole into a
    temporary file first (for readers that seek, such as numpy's); FileNotFoundError when
    there is no such blob."""
    def decrypted(sealed: BinaryIO, aead: AESGCM) -> Opened:
        with tempfile.TemporaryFile() as plain:
            decrypt_stream(aead, sealed, plain, _aad(blob))
            plain.seek(0)
            return read_plain(plain)

    return _with_sealed(blob, decrypted)


def _with_sealed(blob: str, use: Callable[[BinaryIO, AESGCM], Opened]) -> Opened:
    """``use`` of the downloaded sealed stream, positioned after its sealed data key, and the
    AEAD that data key opens."""
    with tempfile.TemporaryFile() as sealed:
        if not store().get_into(blob, sealed):
            raise FileNotFoundError(blob)
        sealed.seek(0)
        (key_length,) = _KEY_LENGTH.unpack(sealed.read(_KEY_LENGTH.size))
        data_key = crypto.decrypt(sealed.read(key_length), _aad(blob))
        return use(sealed, AESGCM(data_key))


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
    return CACHE.get(_cache_key(container), container.snapshot, load_index)


def forget(container: Container) -> None:
    """Release this process's copy of a deleted container's index."""
    CACHE.drop(_cache_key(container))


def _cache_key(container: Container) -> str:
    return f"{container.kind.key}/{container.container_id}"


CACHE = SnapshotCache()

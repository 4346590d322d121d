"""What a compaction publishes per recognition model, as sealed blobs in the snapshot container.

    directory/<model>/<seq>-<run>/index     the index of every face up to journal entry <seq>
    directory/<model>/<seq>-<run>/pack      the templates it was built from (the next run's base)
    directory/<model>/<seq>-<run>/removed   persons removed shortly before <seq> (compaction.py)

<run> is the compaction run's token, so two runs never write the same blob.

All three use the galleries' envelope encryption (shared.galleries.snapshots): a fresh data key
per blob, sealed by the service key, both bound to the blob name. The journal head names the
published three; anything else under ``directory/`` is a leftover the maintenance sweep removes.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from shared.galleries import snapshots
from shared.index.gallery import EmbedderInfo, GalleryIndex

PREFIX = "directory/"
_HEADER = struct.Struct("<I")


def blob_names(model: str, seq: int, run: str) -> tuple[str, str, str]:
    base = f"{PREFIX}{model}/{seq:012d}-{run}/"
    return base + "index", base + "pack", base + "removed"


def position_of(blob: str) -> int:
    """The journal position in a blob name made by ``blob_names``."""
    return int(blob.split("/")[2].split("-")[0])


def model_prefix(model: str) -> str:
    return f"{PREFIX}{model}/"


@dataclass
class Pack:
    """Every searchable face of a model at one journal position, in index order."""

    face_ids: np.ndarray  # S36
    person_ids: np.ndarray  # S36
    vectors: np.ndarray  # float32 (n, d)
    embedder: EmbedderInfo

    @classmethod
    def empty(cls, embedder: EmbedderInfo = EmbedderInfo()) -> "Pack":
        return cls(np.empty(0, "S36"), np.empty(0, "S36"), np.empty((0, 0), np.float32), embedder)

    def __len__(self) -> int:
        return len(self.face_ids)


def write_pack(target: BinaryIO, pack: Pack) -> None:
    header = json.dumps({"embedder": pack.embedder.name, "version": pack.embedder.version}).encode()
    target.write(_HEADER.pack(len(header)) + header)
    for array in (pack.face_ids, pack.person_ids, pack.vectors):
        np.save(target, array, allow_pickle=False)


def read_pack(source: BinaryIO) -> Pack:
    (length,) = _HEADER.unpack(source.read(_HEADER.size))
    header = json.loads(source.read(length))
    face_ids, person_ids, vectors = (np.load(source, allow_pickle=False) for _ in range(3))
    return Pack(face_ids, person_ids, vectors, EmbedderInfo(header["embedder"], header["version"]))


def put_pack(blob: str, pack: Pack) -> None:
    snapshots.put_sealed(blob, lambda plain: write_pack(plain, pack))


def load_pack(blob: str) -> Pack:
    return snapshots.open_sealed(blob, read_pack)


def put_removed(blob: str, removed: dict[str, str]) -> None:
    """Person id -> when it was removed (RFC 3339)."""
    snapshots.put_sealed(blob, lambda plain: plain.write(json.dumps(removed).encode()))


def load_removed(blob: str) -> dict[str, str]:
    return snapshots.open_sealed(blob, lambda plain: json.loads(plain.read() or b"{}"))


def put_index(blob: str, index: GalleryIndex) -> None:
    snapshots.put_index(blob, index)


def load_index(model: str, blob: str) -> GalleryIndex:
    """The model's published index, loaded once per process and kept warm (shared cache)."""
    return snapshots.CACHE.get(f"{PREFIX}{model}", blob, snapshots.load_index)


def names(model: str) -> list[str]:
    return list(snapshots.store().names(model_prefix(model)))


def delete(blob: str) -> None:
    snapshots.delete(blob)

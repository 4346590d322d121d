"""One-file snapshot of a GalleryIndex: plain bytes; the caller encrypts and uploads.

Layout (format version 3):

    [0, 4096)   fixed header area: magic b"FACEIDX1", u32 version, u32 json length,
                u32 crc32 of the json, json, zero padding
    4096...     sections back to back in header order, by kind:
                  exact    "vectors" (float32, n x d)
                  hnsw     "graph" (hnswlib save_index bytes of the face graph)
                  grouped  "graph" (of the group centroids' directions), "vectors", "starts"
                then the label arrays "labels", "face_ids", "person_codes", "persons"

The json holds kind, dims, count, build params, embedder name/version and, per section,
its length, dtype, shape and sha256. The header has a fixed size so the writer can hash
sections while streaming them and fill the header in last (the target must be seekable).
Older versions still load: 2 (its grouped graph holds raw centroids) and 1 (kinds exact and
hnsw, the exact vectors named "graph").

The loader reads the sections in one pass, so it can read straight from the decrypting
stream (framing.open_decrypted): arrays are read into their own memory, and the graph,
which hnswlib only loads from a file path holding exactly that graph, is streamed to a
private temporary file (mode 0600) deleted as soon as hnswlib has read it. No decrypted
copy of the whole snapshot exists, and the loaded index is the only one in memory.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from shared.index.backends import ExactBackend, GroupedBackend, HnswBackend, load_graph
from shared.index.gallery import EmbedderInfo, GalleryIndex
from shared.index.labels import LabelMap
from shared.index.params import IndexParams

MAGIC = b"FACEIDX1"
FORMAT_VERSION = 3
_READABLE_VERSIONS = (1, 2, 3)
HEADER_SPACE = 4096
_FIXED = struct.Struct("<8sIII")  # magic, version, json length, json crc32
_CHUNK = 4 << 20
_LABEL_SECTIONS = ("labels", "face_ids", "person_codes", "persons")
_INDEX_SECTIONS = {
    ExactBackend.kind: ("vectors",),
    HnswBackend.kind: ("graph",),
    GroupedBackend.kind: ("graph", "vectors", "starts"),
}


class SnapshotError(ValueError):
    """The bytes are not a readable snapshot: wrong magic, version, truncated, corrupted."""


@contextmanager
def _opened(target: str | os.PathLike | BinaryIO, mode: str) -> Iterator[BinaryIO]:
    if isinstance(target, (str, os.PathLike)):
        with open(target, mode) as handle:
            yield handle
    else:
        yield target


@contextmanager
def _temp_path(directory: str | None) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix="faceidx-", suffix=".bin", dir=directory)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _copy(src: BinaryIO, dst: BinaryIO, length: int, digest) -> None:
    """Copy exactly ``length`` bytes, hashing them; short input means truncation."""
    remaining = length
    while remaining:
        chunk = src.read(min(_CHUNK, remaining))
        if not chunk:
            raise SnapshotError("snapshot is truncated")
        digest.update(chunk)
        dst.write(chunk)
        remaining -= len(chunk)


def _write_array(out: BinaryIO, name: str, array: np.ndarray) -> dict:
    data = np.ascontiguousarray(array)
    out.write(memoryview(data).cast("B"))
    return {"name": name, "length": data.nbytes, "dtype": data.dtype.str, "shape": list(data.shape),
            "sha256": hashlib.sha256(memoryview(data).cast("B")).hexdigest()}


def _write_graph(out: BinaryIO, graph, temp_dir: str | None) -> dict:
    with _temp_path(temp_dir) as path:
        graph.save_index(str(path))
        digest, length = hashlib.sha256(), path.stat().st_size
        with open(path, "rb") as src:
            _copy(src, out, length, digest)
    return {"name": "graph", "length": length, "dtype": "|u1", "shape": [length], "sha256": digest.hexdigest()}


def _write_index(out: BinaryIO, backend, temp_dir: str | None) -> list[dict]:
    if isinstance(backend, ExactBackend):
        return [_write_array(out, "vectors", backend.vectors)]
    if isinstance(backend, HnswBackend):
        return [_write_graph(out, backend.index, temp_dir)]
    return [_write_graph(out, backend.graph, temp_dir), _write_array(out, "vectors", backend.vectors),
            _write_array(out, "starts", backend.starts)]


def write_snapshot(index: GalleryIndex, target: str | os.PathLike | BinaryIO, temp_dir: str | None = None) -> int:
    """Write ``index`` to a path or seekable binary file; returns the bytes written."""
    with _opened(target, "wb") as out:
        start = out.tell()
        out.write(b"\0" * HEADER_SPACE)
        sections = _write_index(out, index.backend, temp_dir)
        label_map = index.labels
        sections += [_write_array(out, name, getattr(label_map, name)) for name in _LABEL_SECTIONS]
        end = out.tell()
        header = {
            "kind": index.kind,
            "dims": index.dims,
            "count": index.count,
            "params": index.params.as_dict(),
            "embedder": {"name": index.embedder.name, "version": index.embedder.version},
            "sections": sections,
        }
        blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
        if _FIXED.size + len(blob) > HEADER_SPACE:
            raise ValueError(f"snapshot header of {len(blob)} bytes does not fit in {HEADER_SPACE}")
        out.seek(start)
        out.write(_FIXED.pack(MAGIC, FORMAT_VERSION, len(blob), zlib.crc32(blob)) + blob)
        out.seek(end)
    return end - start


def _read_header(src: BinaryIO) -> dict:
    area = src.read(HEADER_SPACE)
    if len(area) < _FIXED.size or area[:8] != MAGIC:
        raise SnapshotError("not a gallery index snapshot (bad magic)")
    if len(area) < HEADER_SPACE:
        raise SnapshotError("snapshot is truncated")
    _, version, length, crc = _FIXED.unpack_from(area)
    if version not in _READABLE_VERSIONS:
        raise SnapshotError(f"unsupported snapshot format version {version}")
    blob = area[_FIXED.size:_FIXED.size + length]
    if length > HEADER_SPACE - _FIXED.size or zlib.crc32(blob) != crc:
        raise SnapshotError("snapshot header is corrupted")
    header = json.loads(blob)
    header["version"] = version
    if version == 1 and header.get("kind") == ExactBackend.kind:
        header["sections"][0]["name"] = "vectors"  # version 1 called an exact index's vectors "graph"
    expected = [*_INDEX_SECTIONS.get(header.get("kind"), ("?",)), *_LABEL_SECTIONS]
    if [s.get("name") for s in header.get("sections", [])] != expected:
        raise SnapshotError("snapshot header lists unexpected sections")
    return header


class _Authenticated:
    """Stands in for sha256 when every byte of the source is already authenticated
    (framing.open_decrypted: AES-GCM per chunk); hashing 0.7 GB again costs ~0.5 s of load."""

    def update(self, data) -> None:
        pass


def _check(section: dict, digest) -> None:
    if isinstance(digest, _Authenticated):
        return
    if digest.hexdigest() != section["sha256"]:
        raise SnapshotError(f"snapshot section {section['name']!r} is corrupted (checksum mismatch)")


def _read_array(src: BinaryIO, section: dict, new_digest=hashlib.sha256) -> np.ndarray:
    # Read straight into the array's own memory: no second copy of the bytes.
    dtype = np.dtype(section["dtype"])
    if dtype.kind not in "iufS":  # never object arrays from a file
        raise SnapshotError(f"snapshot section {section['name']!r} has unsupported dtype {dtype.str}")
    array = np.empty(section["shape"], dtype=dtype)
    view = memoryview(array).cast("B")
    if array.nbytes != section["length"]:
        raise SnapshotError(f"snapshot section {section['name']!r} has an inconsistent size")
    filled = 0
    while filled < array.nbytes:
        got = src.readinto(view[filled:filled + _CHUNK])
        if not got:
            raise SnapshotError("snapshot is truncated")
        filled += got
    digest = new_digest()
    digest.update(view)
    _check(section, digest)
    return array


def _read_graph(src: BinaryIO, section: dict, dims: int, temp_dir: str | None, new_digest):
    with _temp_path(temp_dir) as path:  # mkstemp: mode 0600, deleted as soon as hnswlib has read it
        digest = new_digest()
        with open(path, "wb") as dst:
            _copy(src, dst, section["length"], digest)
        _check(section, digest)
        return load_graph(path, dims)


def _backend(kind: str, parts: dict, header: dict, params: IndexParams):
    if kind == ExactBackend.kind:
        return ExactBackend(parts["vectors"])
    if kind == HnswBackend.kind:
        return HnswBackend(parts["graph"], params.threads)
    starts, codes = parts["starts"], parts["person_codes"]
    if starts.ndim != 1 or starts.size < 2 or starts[0] != 0 or starts[-1] != header["count"] \
            or np.any(np.diff(starts) < 1) or parts["graph"].element_count != starts.size - 1:
        raise SnapshotError("snapshot face groups are inconsistent")
    return GroupedBackend(parts["graph"], parts["vectors"], starts, codes[starts[:-1]], params.threads,
                          params.rerank_groups, directions=header["version"] >= 3)


def load_snapshot(
    source: str | os.PathLike | BinaryIO,
    params: IndexParams | None = None,
    temp_dir: str | None = None,
    authenticated: bool = False,
) -> GalleryIndex:
    """Load a snapshot written by write_snapshot; raises SnapshotError on bad bytes.

    ``source`` is read once, front to back (a path, a file, or framing.open_decrypted).
    ``params`` are the query-time knobs (ef, threads, rerank_groups): default from the
    environment, so search tuning changes apply without a rebuild. ``authenticated``
    skips the sections' sha256 when the source already authenticates every byte (a
    framing.open_decrypted reader raises on any altered, missing or extra byte).
    """
    params = params or IndexParams.from_env()
    new_digest = _Authenticated if authenticated else hashlib.sha256
    with _opened(source, "rb") as src:
        header = _read_header(src)
        parts = {}
        for section in header["sections"]:
            if section["name"] == "graph":
                parts["graph"] = _read_graph(src, section, header["dims"], temp_dir, new_digest)
            else:
                parts[section["name"]] = _read_array(src, section, new_digest)
        if src.read(1):
            raise SnapshotError("snapshot has trailing bytes")
    if any(len(parts[name]) != header["count"] for name in ("labels", "face_ids", "person_codes")) \
            or ("vectors" in parts and (parts["vectors"].shape != (header["count"], header["dims"])
                                        or parts["vectors"].dtype != np.float32)):
        raise SnapshotError("snapshot label arrays do not match its vector count")
    backend = _backend(header["kind"], parts, header, params)
    labels = LabelMap(**{name: parts[name] for name in _LABEL_SECTIONS})
    return GalleryIndex(backend, labels, header["dims"], params, EmbedderInfo(**header["embedder"]))

from __future__ import annotations

import hashlib
import io
import json
import os
import zlib

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.index import (EmbedderInfo, SnapshotError, build_index, encrypt_stream, load_snapshot, open_decrypted,
                          write_snapshot)
from shared.index import snapshot as snapshot_module
from shared.index.backends import GroupedBackend, build_graph
from shared.index.gallery import GalleryIndex
from shared.index.snapshot import _FIXED, HEADER_SPACE


@pytest.fixture
def index(gallery, params):
    return build_index(gallery.vectors, gallery.labels, gallery.face_ids, gallery.person_ids, params,
                       EmbedderInfo("dlib_resnet_v1", "1"))


def _snapshot(index) -> bytes:
    buffer = io.BytesIO()
    size = write_snapshot(index, buffer)
    assert size == len(buffer.getvalue())
    return buffer.getvalue()


def test_round_trip_gives_identical_results(index, gallery, params, tmp_path):
    path = tmp_path / "snap.bin"
    write_snapshot(index, path)
    loaded = load_snapshot(path, params)
    assert (loaded.kind, loaded.dims, loaded.count) == (index.kind, index.dims, index.count)
    assert loaded.embedder == EmbedderInfo("dlib_resnet_v1", "1")
    assert loaded.search(gallery.queries, k=5) == index.search(gallery.queries, k=5)
    assert loaded.search_persons(gallery.queries, k=3) == index.search_persons(gallery.queries, k=3)
    assert _snapshot(loaded) == path.read_bytes()


def test_loads_from_a_file_object(index, gallery, params):
    loaded = load_snapshot(io.BytesIO(_snapshot(index)), params)
    assert loaded.search(gallery.queries, k=2) == index.search(gallery.queries, k=2)


def test_no_temp_files_left_behind(index, params, tmp_path):
    load_snapshot(io.BytesIO(_snapshot(index)), params, temp_dir=str(tmp_path))
    write_snapshot(index, io.BytesIO(), temp_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", [HEADER_SPACE + 100, -10])  # inside the graph, inside the last label array
def test_flipped_byte_is_detected(index, params, where):
    data = bytearray(_snapshot(index))
    data[where] ^= 0x40
    with pytest.raises(SnapshotError, match="corrupted"):
        load_snapshot(io.BytesIO(bytes(data)), params)


@pytest.mark.parametrize("keep", [0, 5, 100, HEADER_SPACE + 10, -1])
def test_truncated_snapshot_is_detected(index, params, keep):
    data = _snapshot(index)
    with pytest.raises(SnapshotError, match="truncated|magic"):
        load_snapshot(io.BytesIO(data[:keep]), params)


def test_header_damage_and_trailing_bytes_are_detected(index, params):
    data = _snapshot(index)
    with pytest.raises(SnapshotError, match="magic"):
        load_snapshot(io.BytesIO(b"X" + data[1:]), params)
    damaged = bytearray(data)
    damaged[30] ^= 1
    with pytest.raises(SnapshotError, match="header"):
        load_snapshot(io.BytesIO(bytes(damaged)), params)
    with pytest.raises(SnapshotError, match="trailing"):
        load_snapshot(io.BytesIO(data + b"\0"), params)
    newer = bytearray(data)
    newer[8] = 99
    with pytest.raises(SnapshotError, match="version"):
        load_snapshot(io.BytesIO(bytes(newer)), params)


def _rewrite_header(data: bytes, edit) -> bytes:
    """Re-sign a modified header, as a bug or a crafted file would present it."""
    magic, version, length, _ = _FIXED.unpack_from(data)
    header = json.loads(data[_FIXED.size:_FIXED.size + length])
    edit(header)
    blob = json.dumps(header).encode()
    area = (_FIXED.pack(magic, version, len(blob), zlib.crc32(blob)) + blob).ljust(HEADER_SPACE, b"\0")
    return area + data[HEADER_SPACE:]


def test_object_dtype_is_refused(index, params):
    def to_object(header):
        header["sections"][1]["dtype"] = "|O"

    with pytest.raises(SnapshotError, match="dtype"):
        load_snapshot(io.BytesIO(_rewrite_header(_snapshot(index), to_object)), params)


def test_count_mismatch_is_refused(index, params):
    def recount(header):
        header["count"] += 1

    with pytest.raises(SnapshotError):
        load_snapshot(io.BytesIO(_rewrite_header(_snapshot(index), recount)), params)


def test_loads_while_decrypting(index, gallery, params):
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    sealed = io.BytesIO()
    encrypt_stream(aead, io.BytesIO(_snapshot(index)), sealed, b"snap", chunk_size=4096)
    sealed.seek(0)
    loaded = load_snapshot(open_decrypted(aead, sealed, b"snap"), params, authenticated=True)
    assert loaded.search(gallery.queries, k=3) == index.search(gallery.queries, k=3)


def test_authenticated_load_still_checks_structure(index, params):
    with pytest.raises(SnapshotError, match="truncated"):
        load_snapshot(io.BytesIO(_snapshot(index)[:-1]), params, authenticated=True)
    with pytest.raises(SnapshotError, match="trailing"):
        load_snapshot(io.BytesIO(_snapshot(index) + b"\0"), params, authenticated=True)


def test_graph_temp_file_is_private(index, params, tmp_path, monkeypatch):
    if index.kind == "exact":
        pytest.skip("an exact index has no graph file")
    modes = []
    real = snapshot_module.load_graph

    def spy(path, dims):
        modes.append(os.stat(path).st_mode & 0o777)
        return real(path, dims)

    monkeypatch.setattr(snapshot_module, "load_graph", spy)
    load_snapshot(io.BytesIO(_snapshot(index)), params, temp_dir=str(tmp_path))
    assert modes == [0o600] and list(tmp_path.iterdir()) == []


def test_version_1_snapshots_still_load(index, gallery, params):
    if index.kind == "grouped":
        pytest.skip("version 1 had no grouped kind")

    def as_version_1(header):
        if header["kind"] == "exact":
            header["sections"][0]["name"] = "graph"

    data = bytearray(_rewrite_header(_snapshot(index), as_version_1))
    data[8:12] = (1).to_bytes(4, "little")
    loaded = load_snapshot(io.BytesIO(bytes(data)), params)
    assert loaded.search(gallery.queries, k=3) == index.search(gallery.queries, k=3)


def test_version_2_grouped_snapshots_walk_their_raw_centroids(index, gallery, params):
    """Format 2 graphs hold the centroids themselves (format 3: their directions): a query
    must walk such a graph by its own vector, not by its direction."""
    if index.kind != "grouped":
        pytest.skip("only a grouped index has centroids")
    backend = index.backend
    centroids = np.add.reduceat(backend.vectors, backend.starts[:-1], axis=0) / np.diff(backend.starts)[:, None]
    legacy = GalleryIndex(GroupedBackend(build_graph(centroids, params.m, params.ef_construction, 1), backend.vectors,
                                         backend.starts, backend.group_codes, 1, params.rerank_groups,
                                         directions=False), index.labels, index.dims, params, index.embedder)
    data = bytearray(_snapshot(legacy))
    data[8:12] = (2).to_bytes(4, "little")
    loaded = load_snapshot(io.BytesIO(bytes(data)), params)
    assert loaded.backend.directions is False and _snapshot(index)[8] == 3
    assert loaded.search_persons(gallery.queries, k=3) == legacy.search_persons(gallery.queries, k=3)
    nearest = [int(np.argmin(gallery.exact_distances(query))) for query in gallery.queries]
    found = [matches[0].face_id for matches in loaded.search(gallery.queries, k=1)]
    assert np.mean([gallery.face_ids[row] == face for row, face in zip(nearest, found)]) >= 0.9


def test_inconsistent_groups_are_refused(index, params):
    if index.kind != "grouped":
        pytest.skip("only a grouped index has groups")
    data = bytearray(_snapshot(index))
    header = json.loads(data[_FIXED.size:_FIXED.size + _FIXED.unpack_from(data)[2]])
    offset = HEADER_SPACE + sum(s["length"] for s in header["sections"][:2])  # "starts" follows graph, vectors
    starts = np.frombuffer(bytes(data[offset:offset + 16]), np.int64).copy()
    starts[1] = 0  # an empty group
    data[offset:offset + 16] = starts.tobytes()

    def resign(h):
        whole = np.frombuffer(bytes(data[offset:offset + h["sections"][2]["length"]]), np.uint8)
        h["sections"][2]["sha256"] = hashlib.sha256(whole).hexdigest()

    with pytest.raises(SnapshotError, match="groups"):
        load_snapshot(io.BytesIO(_rewrite_header(bytes(data), resign)), params)

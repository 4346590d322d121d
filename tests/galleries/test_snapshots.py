"""Snapshot blobs: encrypted, bound to their name, and loaded once per process."""
from __future__ import annotations

import io

import numpy as np
import pytest

from shared.galleries import snapshots
from shared.galleries.kinds import LARGE_FACE_LIST
from shared.galleries.records import Container
from shared.index.gallery import build_index
from shared.storage.crypto import DecryptionError


def _container(generation: int) -> Container:
    return Container(LARGE_FACE_LIST, "snap-test", "n", None, "recognition_01", "inc0", "t0", generation=generation)


def test_snapshot_round_trip_and_binding(service):  # service: storage settings and Azurite
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(50, 128)).astype(np.float32)
    index = build_index(vectors, np.arange(50), [f"f{i}" for i in range(50)], [None] * 50)
    container = _container(1)
    blob = snapshots.write(container, index)
    downloaded = io.BytesIO()
    assert snapshots.store().get_into(blob, downloaded)
    raw = downloaded.getvalue()
    assert vectors[0].tobytes() not in raw  # nothing readable in the blob
    container.snapshot = blob
    loaded = snapshots.index(container)
    assert loaded.search(vectors[7], k=1)[0][0].face_id == "f7"
    assert snapshots.index(container) is loaded  # warm: no reload while the row names the same blob

    moved = blob.replace("0000000001", "0000000002")
    snapshots.store().put(moved, raw)
    with pytest.raises(DecryptionError):  # the data key is sealed to the original name
        snapshots.index(_container_with(moved))
    snapshots.prune(container, keep=blob)
    assert list(snapshots.store().names("largefacelist/snap-test/")) == [blob]


def _container_with(blob: str) -> Container:
    container = _container(2)
    container.snapshot = blob
    return container

"""The vector store on its own: templates of several dimensions (128-d dlib/SFace, the fused
256-d dlib_sface) side by side in one table, each in its own HNSW index, found by both plans."""
from __future__ import annotations

import numpy as np


def test_every_template_dimension_is_searched_in_its_own_index(pg, monkeypatch):
    from shared.postgres import connection, vectors

    rng = np.random.default_rng(3)
    for dims in (128, 256):
        container = vectors.gallery_container(f"dims{dims}")
        data = rng.normal(size=(60, dims)).astype(np.float32)
        vectors.add_many(container, {f"p{i}": [vectors.NewVector(f"f{dims}-{i}", f"p{i}", data[i])] for i in range(60)})
        scope = vectors.Scope(container, dims)
        for exact_faces in ("100000", "0"):  # the exact scan, then the HNSW index of that dimension
            monkeypatch.setenv("FACE_POSTGRES_EXACT_FACES", exact_faces)
            monkeypatch.setattr(vectors, "_sizes", {})
            found = vectors.nearest_persons(scope, [data[7], data[42]], 2)
            assert [hits[0][0] for hits in found] == ["p7", "p42"] and found[0][0][1] == 0.0
            assert vectors.nearest_faces(scope, data[7], 1) == [(f"f{dims}-7", 0.0)]
    with connection.transaction() as conn:
        indexes = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'face_vectors'")}
    assert {"face_vectors_hnsw_128", "face_vectors_hnsw_256"} <= indexes


def test_a_search_is_one_round_trip_and_a_failed_one_leaves_its_connection_clean(pg, monkeypatch):
    """The HNSW search sends its settings, every query face and BEGIN/COMMIT as one pipeline;
    a statement failing in it rolls the transaction back and leaves the pooled connection as
    the writers expect it (autocommit off, idle)."""
    import psycopg
    import pytest
    from psycopg._pipeline_base import BasePipeline

    from shared.postgres import connection, vectors

    monkeypatch.setenv("FACE_POSTGRES_POOL_SIZE", "1")  # the failed read's connection is the next one's
    connection.reset()
    container = vectors.gallery_container("roundtrips")
    data = np.random.default_rng(4).normal(size=(30, 128)).astype(np.float32)
    vectors.add_many(container, {f"p{i}": [vectors.NewVector(f"f{i}", f"p{i}", data[i])] for i in range(30)})
    monkeypatch.setenv("FACE_POSTGRES_EXACT_FACES", "0")
    monkeypatch.setattr(vectors, "_sizes", {})
    vectors.nearest_persons(vectors.Scope(container, 128), [data[0]], 1)  # the size decision, cached
    syncs = []  # each Sync psycopg sends is a wait for the server
    real_sync = BasePipeline._enqueue_sync
    monkeypatch.setattr(BasePipeline, "_enqueue_sync", lambda self: (syncs.append(1), real_sync(self))[1])
    found = vectors.nearest_persons(vectors.Scope(container, 128), [data[3], data[5], data[9]], 1)
    assert [hits[0][0] for hits in found] == ["p3", "p5", "p9"]
    assert len(syncs) == 1  # one pipeline, synced once when it ends (not after BEGIN or COMMIT)
    with pytest.raises(psycopg.errors.UndefinedTable):
        connection.read_together([("SELECT 1 FROM no_such_table", ())])
    with connection.transaction() as conn:  # the same pooled connection, usable for a write
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert vectors.nearest_persons(vectors.Scope(container, 128), [data[7]], 1)[0][0][0] == "p7"

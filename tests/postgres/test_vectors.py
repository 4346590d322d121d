"""The vector store on its own: templates of several dimensions (128-d dlib/SFace, the fused
256-d dlib_sface) side by side in one table, each in its own cosine HNSW index, found by both
plans; a database of an earlier release (Euclidean index) migrated by ``reindex``."""
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
    indexes = _hnsw_indexes()
    assert {name: indexes.get(name) for name in ("face_vectors_cosine_128", "face_vectors_cosine_256")} == {
        "face_vectors_cosine_128": "vector_cosine_ops", "face_vectors_cosine_256": "vector_cosine_ops"}


def test_unnormalised_templates_are_ranked_by_euclidean_distance_through_the_cosine_index(pg, monkeypatch):
    """The cosine walk only proposes candidates: a face on the query's direction but far away
    loses to a nearer one at another angle, as in the exact scan, and distances are Euclidean."""
    from shared.postgres import vectors

    rng = np.random.default_rng(5)
    query = rng.normal(size=128).astype(np.float32)
    near = query + 0.05 * rng.normal(size=128).astype(np.float32)  # a small angle, a small distance
    faces = {"same-direction": 1.5 * query, "near": near,
             **{f"other{i}": rng.normal(size=128).astype(np.float32) for i in range(40)}}
    container = vectors.gallery_container("rerank")
    vectors.add_many(container, {p: [vectors.NewVector(f"f-{p}", p, v)] for p, v in faces.items()})
    monkeypatch.setenv("FACE_POSTGRES_EXACT_FACES", "0")
    monkeypatch.setattr(vectors, "_sizes", {})
    found = vectors.nearest_persons(vectors.Scope(container, 128), [query], 2)[0]
    assert [person for person, _ in found] == ["near", "same-direction"]
    assert np.isclose(found[1][1], float(np.linalg.norm(0.5 * query)), rtol=1e-5)


def test_reindex_moves_a_database_of_an_earlier_release_to_the_cosine_index(pg, monkeypatch):
    """An earlier release's Euclidean index is left alone by writes (no build inside a request)
    and replaced, concurrently, by ``postgres_sync reindex``; searches stay right throughout."""
    from shared.postgres import connection, schema, vectors
    from shared.services import postgres_sync

    container = vectors.gallery_container("legacy")
    data = np.random.default_rng(6).normal(size=(40, 128)).astype(np.float32)
    vectors.add_many(container, {f"p{i}": [vectors.NewVector(f"f{i}", f"p{i}", data[i])] for i in range(20)})
    with connection.transaction() as conn:  # what an earlier release built
        conn.execute("DROP INDEX face_vectors_cosine_128")
        conn.execute("CREATE INDEX face_vectors_hnsw_128 ON face_vectors USING hnsw "
                     "((embedding::vector(128)) vector_l2_ops) WHERE dims = 128")
    schema.forget()
    vectors.add_many(container, {f"p{i}": [vectors.NewVector(f"f{i}", f"p{i}", data[i])] for i in range(20, 40)})
    assert _hnsw_indexes().get("face_vectors_hnsw_128") == "vector_l2_ops"
    assert "face_vectors_cosine_128" not in _hnsw_indexes()
    monkeypatch.setenv("FACE_POSTGRES_EXACT_FACES", "0")
    monkeypatch.setattr(vectors, "_sizes", {})
    scope = vectors.Scope(container, 128)
    assert [hits[0][0] for hits in vectors.nearest_persons(scope, [data[3], data[33]], 1)] == ["p3", "p33"]
    assert postgres_sync.main(["reindex"]) == 0
    indexes = _hnsw_indexes()
    assert indexes.get("face_vectors_cosine_128") == "vector_cosine_ops" and "face_vectors_hnsw_128" not in indexes
    with connection.transaction() as conn:
        assert conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'face_vectors_cosine_128'::regclass"
                            ).fetchone() == (True,)
    assert [hits[0][0] for hits in vectors.nearest_persons(scope, [data[3], data[33]], 1)] == ["p3", "p33"]


def _hnsw_indexes() -> dict[str, str]:
    """name -> operator class of every HNSW index of the vectors' table."""
    from shared.postgres import connection

    with connection.transaction() as conn:
        rows = conn.execute("SELECT i.relname, o.opcname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                            "JOIN pg_am a ON a.oid = i.relam JOIN pg_opclass o ON o.oid = x.indclass[0] "
                            "WHERE x.indrelid = 'face_vectors'::regclass AND a.amname = 'hnsw'").fetchall()
    return dict(rows)


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

"""The vector store on its own: templates of several dimensions (128-d dlib/SFace, the fused
256-d dlib_sface) side by side in one table, their owners' centroids each in its own cosine HNSW
index, found by both plans; centroids follow every write; a database of an earlier release
(an index over single faces, no centroids) migrated by ``reindex``."""
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
            monkeypatch.setattr(vectors, "_states", {})
            found = vectors.nearest_persons(scope, [data[7], data[42]], 2)
            assert [hits[0][0] for hits in found] == ["p7", "p42"] and found[0][0][1] == 0.0
            assert vectors.nearest_faces(scope, data[7], 1) == [(f"f{dims}-7", 0.0)]
    indexes = _hnsw_indexes()
    assert {name: indexes.get(name) for name in ("face_owners_cosine_128", "face_owners_cosine_256")} == {
        "face_owners_cosine_128": "vector_cosine_ops", "face_owners_cosine_256": "vector_cosine_ops"}
    assert not [name for name in indexes if name.startswith("face_vectors")]  # faces are not indexed one by one


def test_an_owners_centroid_follows_every_write_and_goes_with_the_owner(pg):
    """The centroid is the mean of the owner's live templates after each add and removal, NULL
    when the last face goes, and cleared (with the mark) when the owner is removed."""
    from shared.postgres import vectors

    container = vectors.gallery_container("centroids")
    data = np.random.default_rng(8).normal(size=(3, 128)).astype(np.float32)
    vectors.add(container, "p", [vectors.NewVector("a", "p", data[0]), vectors.NewVector("b", "p", data[1])])
    assert np.allclose(_centroid(container, "p"), data[:2].mean(0), atol=1e-5)
    vectors.add(container, "p", [vectors.NewVector("c", "p", data[2])])
    assert np.allclose(_centroid(container, "p"), data.mean(0), atol=1e-5)
    vectors.remove_faces(container, "p", ["a", "c"])
    assert np.allclose(_centroid(container, "p"), data[1], atol=1e-6)
    vectors.forget_faces(container, "p", ["b"])
    assert _centroid(container, "p") is None
    vectors.add(container, "p", [vectors.NewVector("d", "p", data[0])])
    vectors.remove_owner([container], "p")
    assert _centroid(container, "p") is None


def _centroid(container: str, owner: str):
    from shared.postgres import connection

    with connection.transaction() as conn:
        text = conn.execute("SELECT centroid::text FROM face_owners WHERE container = %s AND shard_key = %s",
                            (container, owner)).fetchone()[0]
    return None if text is None else np.asarray([float(v) for v in text.strip("[]").split(",")], np.float32)


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
    monkeypatch.setattr(vectors, "_states", {})
    found = vectors.nearest_persons(vectors.Scope(container, 128), [query], 2)[0]
    assert [person for person, _ in found] == ["near", "same-direction"]
    assert np.isclose(found[1][1], float(np.linalg.norm(0.5 * query)), rtol=1e-5)


def test_reindex_moves_a_database_of_an_earlier_release_to_the_centroid_index(pg, monkeypatch):
    """An earlier release's index over faces (and its owners without centroids) is left alone
    by writes (no build inside a request): searches scan exactly until ``postgres_sync reindex``
    has filled the centroids, built their index and dropped the old one, concurrently."""
    from shared.postgres import connection, schema, vectors
    from shared.services import postgres_sync

    container = vectors.gallery_container("legacy")
    data = np.random.default_rng(6).normal(size=(40, 128)).astype(np.float32)
    vectors.add_many(container, {f"p{i}": [vectors.NewVector(f"f{i}", f"p{i}", data[i])] for i in range(20)})
    with connection.transaction() as conn:  # what an earlier release had: faces indexed, no centroids
        conn.execute("DROP INDEX face_owners_cosine_128")
        conn.execute("UPDATE face_owners SET dims = NULL, centroid = NULL")
        conn.execute("CREATE INDEX face_vectors_cosine_128 ON face_vectors USING hnsw "
                     "((embedding::vector(128)) vector_cosine_ops) WHERE dims = 128")
    schema.forget()
    vectors.add_many(container, {f"p{i}": [vectors.NewVector(f"f{i}", f"p{i}", data[i])] for i in range(20, 40)})
    indexes = _hnsw_indexes()
    assert "face_vectors_cosine_128" in indexes and "face_owners_cosine_128" not in indexes
    monkeypatch.setenv("FACE_POSTGRES_EXACT_FACES", "0")
    monkeypatch.setattr(vectors, "_states", {})
    scope = vectors.Scope(container, 128)
    assert [hits[0][0] for hits in vectors.nearest_persons(scope, [data[3], data[33]], 1)] == ["p3", "p33"]
    assert postgres_sync.main(["reindex"]) == 0
    indexes = _hnsw_indexes()
    assert indexes.get("face_owners_cosine_128") == "vector_cosine_ops" and "face_vectors_cosine_128" not in indexes
    with connection.transaction() as conn:
        assert conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'face_owners_cosine_128'::regclass"
                            ).fetchone() == (True,)
        assert conn.execute("SELECT count(*) FROM face_owners WHERE container = %s AND centroid IS NOT NULL",
                            (container,)).fetchone() == (40,)
    monkeypatch.setattr(vectors, "_states", {})
    assert [hits[0][0] for hits in vectors.nearest_persons(scope, [data[3], data[33]], 1)] == ["p3", "p33"]


def _hnsw_indexes() -> dict[str, str]:
    """name -> operator class of every HNSW index of the vectors' and the owners' tables."""
    from shared.postgres import connection

    with connection.transaction() as conn:
        rows = conn.execute("SELECT i.relname, o.opcname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                            "JOIN pg_am a ON a.oid = i.relam JOIN pg_opclass o ON o.oid = x.indclass[0] "
                            "WHERE x.indrelid IN ('face_vectors'::regclass, 'face_owners'::regclass) "
                            "AND a.amname = 'hnsw'").fetchall()
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
    monkeypatch.setattr(vectors, "_states", {})
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

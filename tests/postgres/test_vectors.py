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

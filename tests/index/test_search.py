from __future__ import annotations

import numpy as np
import pytest

from shared.index import build_index

from tests.index.conftest import PARAMS


def _build(gallery, params):
    return build_index(gallery.vectors, gallery.labels, gallery.face_ids, gallery.person_ids, params)


def test_backend_follows_threshold_and_grouping(gallery, params):
    expected = "exact" if params.exact_threshold > len(gallery.vectors) else "grouped" if params.group_faces else "hnsw"
    assert _build(gallery, params).kind == expected


def test_a_face_list_gets_a_graph_of_faces(gallery):
    index = build_index(gallery.vectors, gallery.labels, gallery.face_ids, [None] * len(gallery.face_ids),
                        PARAMS["grouped"])
    assert index.kind == "hnsw"


def test_top_k_matches_brute_force(gallery, params):
    index = _build(gallery, params)
    agree = 0
    for query in gallery.queries:
        exact = gallery.exact_distances(query)
        best = np.argsort(exact)[:5]
        matches = index.search(query, k=5)[0]
        assert len(matches) == 5
        assert [m.distance for m in matches] == sorted(m.distance for m in matches)
        for m in matches:  # distances are Euclidean (not squared) and ids map back to rows
            row = gallery.face_ids.index(m.face_id)
            assert m.distance == pytest.approx(exact[row], abs=1e-5)
            assert m.label == gallery.labels[row] and m.person_id == gallery.person_ids[row]
        agree += [gallery.face_ids.index(m.face_id) for m in matches] == best.tolist()
    assert agree == len(gallery.queries) if index.kind == "exact" else agree >= 0.95 * len(gallery.queries)


def test_batch_queries_equal_single_queries(gallery, params):
    index = _build(gallery, params)
    batch = index.search(gallery.queries[:4], k=3)
    assert batch == [index.search(q, k=3)[0] for q in gallery.queries[:4]]


def test_self_distance_is_zero(gallery, params):
    index = _build(gallery, params)
    match = index.search(gallery.vectors[7], k=1)[0][0]
    assert match.face_id == gallery.face_ids[7] and match.distance < 1e-5


def test_k_beyond_size_returns_everything(params, make_gallery):
    small = make_gallery(identities=3, per_identity=2)
    index = _build(small, params)
    assert len(index.search(small.queries[0], k=50)[0]) == 6


def test_empty_gallery_returns_no_matches(params):
    index = build_index(np.empty((0, 8), np.float32), [], [], [], params)
    assert index.search(np.ones(8, np.float32), k=3) == [[]]
    assert index.search_persons(np.ones(8, np.float32), k=3) == [[]]


def test_wrong_query_dimension_is_rejected(gallery):
    index = _build(gallery, None)
    with pytest.raises(ValueError, match="dimension"):
        index.search(np.ones(5, np.float32))


def test_inconsistent_inputs_are_rejected(gallery):
    with pytest.raises(ValueError, match="unique"):
        build_index(gallery.vectors[:2], [1, 2], ["a", "a"], [None, None])
    with pytest.raises(ValueError, match="length"):
        build_index(gallery.vectors[:2], [1], ["a", "b"], [None, None])
    with pytest.raises(ValueError, match="NaN"):
        build_index(np.full((2, 4), np.nan, np.float32), [1, 2], ["a", "b"], [None, None])


def test_non_positive_k_is_rejected(gallery):
    index = _build(gallery, None)
    for search in (index.search, index.search_persons):
        with pytest.raises(ValueError, match="k must be positive"):
            search(gallery.queries[0], k=0)

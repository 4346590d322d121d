from __future__ import annotations

import numpy as np

from shared.index import Exclusions, IndexParams, build_index
from shared.index.groups import plan_groups

GROUPED = IndexParams(exact_threshold=0, m=16, ef_construction=100, ef_search=64, group_faces=4, rerank_groups=4)


def _groups(order, starts, codes):
    return [codes[order[a:b]] for a, b in zip(starts[:-1], starts[1:])]


def test_groups_keep_persons_apart_and_split_large_ones():
    rng = np.random.default_rng(5)
    codes = np.array([3] * 10 + [-1] * 3 + [0] * 2 + [1] * 4 + [2])
    rng.shuffle(codes)
    vectors = rng.standard_normal((codes.size, 8)).astype(np.float32)
    order, starts = plan_groups(vectors, codes, max_faces=4)
    assert sorted(order.tolist()) == list(range(codes.size)) and starts[0] == 0 and starts[-1] == codes.size
    groups = _groups(order, starts, codes)
    assert all(len(set(g.tolist())) == 1 for g in groups)  # a group never mixes persons
    per_code = {c: [len(g) for g in groups if g[0] == c] for c in (-1, 0, 1, 2, 3)}
    assert per_code[-1] == [1, 1, 1] and per_code[0] == [2] and per_code[1] == [4] and per_code[2] == [1]
    assert len(per_code[3]) == 3 and sum(per_code[3]) == 10  # 10 faces, at most 4 a group: 3 groups


def test_split_follows_the_faces_of_a_person():
    # One person photographed in two very different conditions: two tight clusters.
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal(16), rng.standard_normal(16)
    vectors = np.vstack([a + 0.01 * rng.standard_normal((6, 16)), b + 0.01 * rng.standard_normal((6, 16))])
    order, starts = plan_groups(vectors.astype(np.float32), np.zeros(12, np.int32), max_faces=6)
    assert sorted(sorted(order[s:e].tolist()) for s, e in zip(starts[:-1], starts[1:])) == [
        list(range(6)), list(range(6, 12))]


def test_nearest_face_of_a_split_person_is_found(make_gallery):
    gallery = make_gallery(identities=200, per_identity=10, seed=11)
    index = build_index(gallery.vectors, gallery.labels, gallery.face_ids, gallery.person_ids, GROUPED)
    assert index.kind == "grouped" and index.backend.groups >= 600
    for query in gallery.queries[:20]:
        exact = np.argsort(gallery.exact_distances(query))[:5]
        assert [m.face_id for m in index.search(query, k=5)[0]] == [gallery.face_ids[i] for i in exact]


def test_a_group_whose_faces_are_all_deleted_does_not_take_a_place(make_gallery):
    gallery = make_gallery(identities=100, per_identity=3, seed=12)
    params = IndexParams(exact_threshold=0, m=16, ef_construction=100, ef_search=1, group_faces=3, rerank_groups=1)
    index = build_index(gallery.vectors, gallery.labels, gallery.face_ids, gallery.person_ids, params)
    query = gallery.queries[0]
    top = index.search_persons(query, k=2)[0]
    faces = {m.face_id for m in index.search(query, k=3, exclude=Exclusions(only_person_ids={top[0].person_id}))[0]}
    got = index.search_persons(query, k=1, exclude=Exclusions(face_ids=faces))[0]
    assert [m.person_id for m in got] == [top[1].person_id]
    assert len(index.search(query, k=4, exclude=Exclusions(face_ids=faces))[0]) == 4

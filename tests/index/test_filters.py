from __future__ import annotations

import numpy as np
import pytest

from shared.index import Exclusions, IndexParams, build_index


def _build(gallery, params):
    return build_index(gallery.vectors, gallery.labels, gallery.face_ids, gallery.person_ids, params)


def test_deleted_faces_are_never_returned(gallery, params):
    index = _build(gallery, params)
    for query in gallery.queries[:10]:
        nearest = [m.face_id for m in index.search(query, k=6)[0]]
        hidden = set(nearest[::2])
        got = [m.face_id for m in index.search(query, k=6, exclude=Exclusions(face_ids=hidden))[0]]
        assert len(got) == 6 and not hidden & set(got)
        assert [f for f in nearest if f not in hidden] == got[: 6 - len(hidden)]


def test_deleted_persons_are_never_returned(gallery, params):
    index = _build(gallery, params)
    for query in gallery.queries[:10]:
        top = index.search_persons(query, k=3)[0]
        gone = {top[0].person_id}
        faces = index.search(query, k=20, exclude=Exclusions(person_ids=gone))[0]
        assert faces and all(m.person_id not in gone for m in faces)
        persons = index.search_persons(query, k=3, exclude=Exclusions(person_ids=gone))[0]
        assert [p.person_id for p in persons][:2] == [p.person_id for p in top[1:]]


def test_unknown_ids_change_nothing(gallery, params):
    index = _build(gallery, params)
    query = gallery.queries[0]
    unknown = Exclusions(face_ids={"no-such-face", "face-00001-longer-than-stored"}, person_ids={"nobody"})
    assert index.search(query, k=4, exclude=unknown) == index.search(query, k=4)


def test_everything_excluded_returns_nothing(params, gallery):
    index = build_index(gallery.vectors[:8], gallery.labels[:8], gallery.face_ids[:8], gallery.person_ids[:8], params)
    every = Exclusions(face_ids=set(gallery.face_ids[:4]), person_ids=set(gallery.person_ids[4:8]))
    assert index.search(gallery.queries[0], k=5, exclude=every) == [[]]
    some = Exclusions(face_ids=set(gallery.face_ids[:3]))
    assert len(index.search(gallery.queries[0], k=10, exclude=some)[0]) == 5


def test_filter_overlapping_face_and_person_counts_once(params, gallery):
    index = build_index(gallery.vectors[:8], gallery.labels[:8], gallery.face_ids[:8], gallery.person_ids[:8], params)
    overlap = Exclusions(face_ids={gallery.face_ids[0]}, person_ids={gallery.person_ids[0]})
    got = index.search(np.asarray(gallery.queries[0]), k=8, exclude=overlap)[0]
    assert len(got) == 8 - 4 and all(m.person_id != gallery.person_ids[0] for m in got)


def test_only_person_ids_restricts_results_to_those_persons(gallery, params):
    index = _build(gallery, params)
    for query in gallery.queries[:10]:
        ranked = [p.person_id for p in index.search_persons(query, k=12)[0]]
        chosen = set(ranked[3:9:2])  # not the nearest: the restriction must do the work
        got = index.search_persons(query, k=12, exclude=Exclusions(only_person_ids=chosen))[0]
        assert [p.person_id for p in got] == [p for p in ranked if p in chosen]
        faces = index.search(query, k=50, exclude=Exclusions(only_person_ids=chosen))[0]
        assert faces and {m.person_id for m in faces} <= chosen


def test_only_person_ids_combines_with_deletions(gallery, params):
    index = _build(gallery, params)
    query = gallery.queries[0]
    ranked = [p.person_id for p in index.search_persons(query, k=4)[0]]
    one_face = index.search(query, k=1, exclude=Exclusions(only_person_ids={ranked[1]}))[0][0].face_id
    scope = Exclusions(face_ids={one_face}, person_ids={ranked[0]}, only_person_ids=set(ranked[:3]))
    faces = index.search(query, k=20, exclude=scope)[0]
    assert {m.person_id for m in faces} == set(ranked[1:3])
    assert one_face not in {m.face_id for m in faces}
    assert len(faces) == 2 * gallery.per_identity - 1


def test_only_person_ids_empty_or_unknown_returns_nothing(gallery, params):
    index = _build(gallery, params)
    for scope in (Exclusions(only_person_ids=set()), Exclusions(only_person_ids={"nobody"})):
        assert index.search(gallery.queries[0], k=5, exclude=scope) == [[]]
        assert index.search_persons(gallery.queries[0], k=5, exclude=scope) == [[]]


def test_wide_restriction_on_a_graph_walks_the_graph(make_gallery):
    gallery = make_gallery(identities=300, per_identity=4, seed=9)
    params = IndexParams(exact_threshold=50, m=16, ef_construction=100, ef_search=64)
    index = _build(gallery, params)
    scope = set(gallery.person_ids[::8])  # ~150 persons, 600 faces: above the scan threshold
    for query in gallery.queries[:5]:
        exact = sorted((d, p) for d, p in zip(gallery.exact_distances(query), gallery.person_ids) if p in scope)
        assert index.search_persons(query, k=1, exclude=Exclusions(only_person_ids=scope))[0][0].person_id == exact[0][1]


def test_narrow_restriction_on_a_graph_scans_the_allowed_faces(gallery):
    for params in (IndexParams(exact_threshold=100, group_faces=0), IndexParams(exact_threshold=100)):
        index = _build(gallery, params)
        assert index.kind in ("hnsw", "grouped")
        query = gallery.queries[0]
        scope = set(gallery.person_ids[40:52])  # 3 persons, 12 faces: under the threshold
        deleted = gallery.face_ids[44]
        exact = sorted((d, f) for d, f, p in zip(gallery.exact_distances(query), gallery.face_ids, gallery.person_ids)
                       if p in scope and f != deleted)
        got = index.search(query, k=20, exclude=Exclusions(face_ids={deleted}, only_person_ids=scope))[0]
        assert [m.face_id for m in got] == [f for _, f in exact]
        assert [m.distance for m in got] == pytest.approx([d for d, _ in exact], abs=1e-5)


def test_prepared_exclusions_answer_as_the_exclusions_do(gallery, params):
    index = _build(gallery, params)
    ranked = [p.person_id for p in index.search_persons(gallery.queries[0], k=6)[0]]
    faces = [m.face_id for m in index.search(gallery.queries[1], k=3)[0]]
    for scope in (Exclusions(face_ids=set(faces[:2]), person_ids={ranked[0]}),
                  Exclusions(person_ids={ranked[1]}, only_person_ids=set(ranked))):
        prepared = index.prepare(scope)
        for query in gallery.queries[:10]:  # one prepared filter, many queries
            assert index.search_persons(query, k=3, exclude=prepared) == index.search_persons(query, k=3, exclude=scope)
            assert index.search(query, k=8, exclude=prepared) == index.search(query, k=8, exclude=scope)
            assert not {m.face_id for m in index.search(query, k=8, exclude=prepared)[0]} & set(scope.face_ids)


def test_exclusions_prepared_for_another_index_are_refused(gallery, params):
    one, other = _build(gallery, params), _build(gallery, params)
    with pytest.raises(ValueError, match="another index"):
        one.search(gallery.queries[0], k=1, exclude=other.prepare(Exclusions(person_ids={"person-0001"})))

from __future__ import annotations

import numpy as np

from shared.index import Exclusions, build_index


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

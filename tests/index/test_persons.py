from __future__ import annotations

import numpy as np
import pytest

from shared.index import PersonMatch, build_index

# Faces on a line at known distances from the query at the origin.
POSITIONS = {"a1": 1.0, "a2": 1.1, "a3": 1.2, "b1": 1.3, "b2": 2.0, "c1": 1.4, "loose": 0.5}
PERSONS = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "c1": "C", "loose": None}


@pytest.fixture
def index(params):
    faces = list(POSITIONS)
    vectors = np.zeros((len(faces), 4), np.float32)
    vectors[:, 0] = [POSITIONS[f] for f in faces]
    return build_index(vectors, range(len(faces)), faces, [PERSONS[f] for f in faces], params)


def test_each_person_scored_by_its_best_face(index):
    got = index.search_persons(np.zeros(4, np.float32), k=3)[0]
    assert [(m.person_id, m.face_id) for m in got] == [("A", "a1"), ("B", "b1"), ("C", "c1")]
    assert [m.distance for m in got] == pytest.approx([1.0, 1.3, 1.4])
    assert isinstance(got[0], PersonMatch) and got[0].label == 0


def test_a_person_with_many_near_faces_does_not_crowd_out_others(index):
    # A's three faces are nearer than anyone else's; k=2 must still reach B.
    assert [m.person_id for m in index.search_persons(np.zeros(4, np.float32), k=2)[0]] == ["A", "B"]


def test_faces_without_person_are_ignored_by_person_search_only(index):
    query = np.zeros(4, np.float32)
    assert index.search(query, k=1)[0][0].face_id == "loose"
    assert all(m.person_id for m in index.search_persons(query, k=5)[0])
    assert len(index.search_persons(query, k=5)[0]) == 3

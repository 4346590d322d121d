"""Face groups for the grouped index: each person's faces, split when there are many.

A group's centroid stands for its faces in the graph, so a group must be tight enough
that a query near one of its faces is also near its centroid. A person with up to
``max_faces`` faces is one group; a larger one (up to 248 faces per person in a
LargePersonGroup, taken across years, poses and lighting) is split by a few rounds of
k-means into groups of about ``max_faces``. A face without a person is a group of one.
"""
from __future__ import annotations

import numpy as np

_KMEANS_ROUNDS = 8


def plan_groups(vectors: np.ndarray, person_codes: np.ndarray, max_faces: int) -> tuple[np.ndarray, np.ndarray]:
    """Row order that stores each group contiguously, and the groups' start offsets in that
    order (len groups + 1, the last is the row count)."""
    order = np.argsort(person_codes, kind="stable")
    codes = person_codes[order]
    persons, first, counts = np.unique(codes, return_index=True, return_counts=True)
    starts = [np.flatnonzero(codes < 0)]  # every face without a person starts a group
    simple = (persons >= 0) & (counts <= max_faces)
    starts.append(first[simple])
    for begin, count in zip(first[~simple & (persons >= 0)].tolist(), counts[~simple & (persons >= 0)].tolist()):
        rows = order[begin:begin + count]
        parts = _kmeans(vectors[rows], -(-count // max_faces))
        within = np.argsort(parts, kind="stable")
        order[begin:begin + count] = rows[within]
        _, part_first = np.unique(parts[within], return_index=True)
        starts.append(begin + part_first)
    boundaries = np.sort(np.concatenate(starts + [np.array([len(order)])])).astype(np.int64)
    return order, boundaries


def _kmeans(points: np.ndarray, parts: int) -> np.ndarray:
    """Part number per point (deterministic: seeded farthest-first start, then Lloyd rounds)."""
    centres = [points[0]]
    for _ in range(parts - 1):
        nearest = np.min([np.einsum("ij,ij->i", points - c, points - c) for c in centres], axis=0)
        centres.append(points[int(np.argmax(nearest))])
    centres = np.array(centres)
    for _ in range(_KMEANS_ROUNDS):
        sq = np.einsum("ij,ij->i", points, points)[:, None] - 2.0 * points @ centres.T
        assign = np.argmin(sq + np.einsum("ij,ij->i", centres, centres)[None, :], axis=1)
        for part in range(parts):
            members = points[assign == part]
            if len(members):
                centres[part] = members.mean(axis=0)
    return assign

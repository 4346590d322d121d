"""Group: split faces into same-person groups (face-api.md §5.4).

Complete-linkage clustering on verify's own decision: two groups merge only when every pair
of faces across them would verify as the same person (confidence >= 0.5), best-scoring
merge first. So no group ever holds two faces that verify would call different people,
and a chain of look-alikes cannot glue two people together (as single linkage would).
Faces left alone go to messyGroup. Groups are ordered largest first; each keeps the
caller's order of faceIds. Clustering runs per connected component of the same-person
graph, which keeps it fast when the faces belong to many people.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shared.engine.matching import SAME_PERSON_CONFIDENCE, check_compatible, confidence, distances
from shared.engine.types import Template
from shared.storage.faceids import FaceIdStore


@dataclass(frozen=True)
class Grouping:
    groups: list[list[str]]
    messy_group: list[str]

    def as_json(self) -> dict:
        return {"groups": self.groups, "messyGroup": self.messy_group}


def group_faces(face_ids: Sequence[str]) -> Grouping:
    unique = list(dict.fromkeys(face_ids))
    templates = FaceIdStore().get_many(unique)
    return group_templates(unique, [templates[face_id] for face_id in unique])


def group_templates(ids: Sequence[str], templates: Sequence[Template]) -> Grouping:
    for template in templates[1:]:
        check_compatible(templates[0], template)
    scores = _confidence_matrix(templates)
    clusters = [cluster for component in _components(scores >= SAME_PERSON_CONFIDENCE)
                for cluster in _complete_linkage(scores, component)]
    clusters = [sorted(cluster) for cluster in clusters]  # caller's order inside each group
    groups = sorted((c for c in clusters if len(c) > 1), key=lambda c: (-len(c), c[0]))
    messy = sorted(c[0] for c in clusters if len(c) == 1)
    return Grouping([[ids[i] for i in c] for c in groups], [ids[i] for i in messy])


def _confidence_matrix(templates: Sequence[Template]) -> np.ndarray:
    """Pairwise verify confidences, one row at a time (O(n) extra memory per row)."""
    matrix = np.stack([template.vector for template in templates])
    embedder = templates[0].embedder
    return np.vstack([np.atleast_1d(confidence(distances(row, matrix), embedder)) for row in matrix])


def _components(linked: np.ndarray) -> list[list[int]]:
    """Connected components of the same-person graph (breadth-first)."""
    unseen, components = set(range(len(linked))), []
    while unseen:
        frontier = [unseen.pop()]
        component = list(frontier)
        while frontier:
            neighbours = {int(j) for i in frontier for j in np.flatnonzero(linked[i])} & unseen
            unseen -= neighbours
            component += neighbours
            frontier = list(neighbours)
        components.append(component)
    return components


def _complete_linkage(scores: np.ndarray, members: list[int]) -> list[list[int]]:
    """Merge the pair of clusters with the highest worst-pair confidence while it is >= 0.5."""
    if len(members) == 1:
        return [members]
    linkage = scores[np.ix_(members, members)].astype(np.float64)
    np.fill_diagonal(linkage, -np.inf)
    clusters = {index: [member] for index, member in enumerate(members)}
    while True:
        a, b = divmod(int(np.argmax(linkage)), len(members))
        if linkage[a, b] < SAME_PERSON_CONFIDENCE:
            return list(clusters.values())
        merged = np.minimum(linkage[a], linkage[b])  # complete linkage: the worst pair decides
        linkage[a], linkage[:, a] = merged, merged
        linkage[a, a] = -np.inf
        linkage[b], linkage[:, b] = -np.inf, -np.inf
        clusters[a] += clusters.pop(b)

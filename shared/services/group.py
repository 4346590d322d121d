"""Group: split faces into same-person groups (face-api.md §5.4).

Two faces are linked when verify would call them identical (the calibrated same-person
threshold); groups are the connected components of that graph. Components of one face go to
messyGroup. Groups are ordered largest first, each keeping the caller's order of faceIds.
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
    labels = _components(len(templates), _same_person_links(templates))
    members: dict[int, list[str]] = {}
    for face_id, label in zip(ids, labels):
        members.setdefault(label, []).append(face_id)
    groups = sorted((m for m in members.values() if len(m) > 1), key=len, reverse=True)
    messy = [m[0] for m in members.values() if len(m) == 1]
    return Grouping(groups, messy)


def _same_person_links(templates: Sequence[Template]) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, that verify would call the same person; one row at a time,
    so memory stays O(n) per step even for 1000 faces."""
    matrix = np.stack([template.vector for template in templates])
    embedder = templates[0].embedder
    links = []
    for i in range(len(templates) - 1):
        scores = np.atleast_1d(confidence(distances(matrix[i], matrix[i + 1:]), embedder))
        links.extend((i, i + 1 + int(j)) for j in np.flatnonzero(scores >= SAME_PERSON_CONFIDENCE))
    return links


def _components(count: int, links: list[tuple[int, int]]) -> list[int]:
    """Union-find over the links; one component label per node."""
    parent = list(range(count))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]  # path halving
            node = parent[node]
        return node

    for a, b in links:
        parent[root(a)] = root(b)
    return [root(node) for node in range(count)]

"""The grouping rule itself, on synthetic templates: every pair inside a group verifies."""
from __future__ import annotations

import itertools

import numpy as np

from shared.engine.embedders import get_embedder
from shared.engine.matching import confidence, is_identical
from shared.engine.types import Template
from shared.services.group import group_templates

EMBEDDER = "dlib_resnet_v1"


def _templates(points: np.ndarray) -> list[Template]:
    return [Template(p.astype(np.float32), EMBEDDER, "1", "recognition_01") for p in points]


def _axis_points(*offsets: float) -> np.ndarray:
    points = np.zeros((len(offsets), 128))
    points[:, 0] = offsets
    return points


def test_a_chain_of_look_alikes_does_not_glue_two_people_together():
    threshold = get_embedder(EMBEDDER).calibration.threshold
    # Neighbours along the chain verify as the same person, the two ends do not.
    points = _axis_points(0.0, 0.6 * threshold, 1.2 * threshold)
    grouping = group_templates(["a", "b", "c"], _templates(points))
    assert len(grouping.groups) == 1 and len(grouping.groups[0]) == 2
    assert not {"a", "c"} <= set(grouping.groups[0])
    assert len(grouping.messy_group) == 1


def test_every_pair_in_every_group_verifies_and_groups_are_ordered():
    threshold = get_embedder(EMBEDDER).calibration.threshold
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(4, 128)) * 10 * threshold
    sizes = [5, 3, 2, 1]
    points = np.vstack([centre + rng.normal(size=(n, 128)) * 0.02 * threshold for centre, n in zip(centres, sizes)])
    order = rng.permutation(len(points))
    ids = [f"face{i}" for i in order]
    grouping = group_templates(ids, _templates(points[order]))
    assert [len(group) for group in grouping.groups] == [5, 3, 2]
    assert len(grouping.messy_group) == 1
    by_id = dict(zip(ids, points[order]))
    for group in grouping.groups:
        assert group == [face_id for face_id in ids if face_id in group]  # caller's order
        for a, b in itertools.combinations(group, 2):
            assert is_identical(confidence(float(np.linalg.norm(by_id[a] - by_id[b])), EMBEDDER))

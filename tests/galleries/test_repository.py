"""Repository building blocks against Azurite: batched tombstones, counters, per-person reads."""
from __future__ import annotations

import uuid

import numpy as np
import pytest

from shared.engine.types import Template
from shared.galleries import containers, faces, persons, repository, search
from shared.galleries.kinds import LARGE_PERSON_GROUP, PERSON_GROUP
from shared.galleries.records import PersistedFace
from shared.storage.tables import Table

pytestmark = pytest.mark.usefixtures("service", "isolated")
IMAGE = faces.FaceInput(b"not decoded: the embedder is replaced", None, "detection_01", None)


def _template(seed: int) -> Template:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return Template(vector / np.linalg.norm(vector), "dlib_resnet_v1", "1", "recognition_01")


def _count_gets(monkeypatch) -> list[tuple[str, str]]:
    reads: list[tuple[str, str]] = []
    original = Table.get

    def counted(self, partition_key, row_key):
        reads.append((partition_key, row_key))
        return original(self, partition_key, row_key)

    monkeypatch.setattr(Table, "get", counted)
    return reads


def test_tombstones_of_a_big_person_are_all_written_once_each():
    ids = [str(uuid.uuid4()) for _ in range(249)]
    repository.add_tombstones(LARGE_PERSON_GROUP, "t-1", ids + ids[:5])  # over 2 batches, with repeats
    assert repository.tombstones(LARGE_PERSON_GROUP, "t-1") == set(ids)
    assert repository.tombstones(LARGE_PERSON_GROUP, "t-2") == set()


def test_a_counter_is_created_on_first_use_and_read_once_per_change(monkeypatch):
    counters = repository.counters()
    counters.add("c-test", 1, 5, "things")
    reads = _count_gets(monkeypatch)
    counters.add("c-test", 2, 5, "things")
    assert reads == [("counters", "c-test")]
    assert int(repository.containers().get("counters", "c-test")["Value"]) == 3
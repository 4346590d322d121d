"""Intents (shared/storage/intents.py) against Azurite: written in one transaction with the
change they guard, one per subject, taken over or resolved only as last seen, listed by
subject prefix and never mixed with the partition's ordinary rows."""
from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from shared.storage import intents
from shared.storage.tables import ConcurrentUpdate, Table, replace_op


@pytest.fixture
def table(service, monkeypatch) -> Table:
    monkeypatch.setenv("FACE_STORAGE_PREFIX", "n" + uuid.uuid4().hex[:8])
    return Table("intenttest")


def _write(table: Table, intent: intents.Intent, *more: tuple) -> intents.Intent:
    return intent.stored(table.transact_matched([intent.create(), *more])[0])


def test_an_intent_is_written_with_its_first_step_or_not_at_all(table):
    counted = {"PartitionKey": "p", "RowKey": "count", "Value": 1}
    table.insert(counted)
    etag = table.get("p", "count").metadata["etag"]
    first = _write(table, intents.Intent("p", "a:1", "delete-thing", {"n": 1}), replace_op({**counted, "Value": 0}, etag))
    with pytest.raises(ConcurrentUpdate):  # the step's ETag no longer matches: neither lands
        table.transact_matched([intents.Intent("p", "a:2", "delete-thing", {}).create(),
                                replace_op({**counted, "Value": -1}, etag)])
    assert [i.subject for i in intents.pending(table, "p")] == ["a:1"]
    assert replace(intents.read(table, "p", "a:1"), written=None) == first  # read also gives the row's Timestamp
    assert table.get("p", "count")["Value"] == 0


def test_one_intent_per_subject_taken_over_or_resolved_as_last_seen(table):
    create = _write(table, intents.Intent("p", "s:1", "create-thing", {}))
    with pytest.raises(ConcurrentUpdate):
        table.transact_matched([intents.Intent("p", "s:1", "delete-thing", {}).create()])
    delete = intents.Intent("p", "s:1", "delete-thing", {"why": "takes over"})
    delete = delete.stored(table.transact_matched([delete.replacing(create)])[0])
    assert not intents.resolve(table, create)  # the creator comes back: it was taken over
    assert intents.read(table, "p", "s:1").action == "delete-thing"
    assert intents.resolve(table, delete)
    assert intents.read(table, "p", "s:1") is None and not intents.resolve(table, delete)


def test_pending_lists_by_subject_prefix_and_skips_ordinary_rows(table):
    table.insert({"PartitionKey": "p", "RowKey": "zzz-ordinary"})
    table.insert({"PartitionKey": "p", "RowKey": "~counts"})
    for subject in ("inc1:person:a", "inc1:face:b", "inc10:person:c", "container:x:inc1"):
        _write(table, intents.Intent("p", subject, "any", {}))
    _write(table, intents.Intent("q", "inc1:person:d", "any", {}))
    assert sorted(i.subject for i in intents.pending(table, "p", "inc1:")) == ["inc1:face:b", "inc1:person:a"]
    assert len(list(intents.pending(table, "p"))) == 4
    assert [i.subject for i in intents.pending(table, "p", "container:x:")] == ["container:x:inc1"]


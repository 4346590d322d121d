"""Intents: durable notes that a change spanning several writes is under way.

Azure Tables make writes atomic only within one partition of one table. A change that also
touches other partitions, tables or blobs (deleting a container's rows and snapshot blobs;
writing a person row after counting it) writes an intent row in the same transaction as its
first step, beside the rows that step changes, and resolves (deletes) the intent after its
last step. If the process dies, a storage call fails or an answer is lost in between, the
intent stays, and whoever finds it (the sweep on any instance, or a retried request) settles
the change: finishes it, or undoes its first step in one transaction with resolving the
intent. Once its intent is resolved a change is complete or absent, never half done.

An intent row lives in the partition of the rows its first step changes; its RowKey is
``~intent-<subject>``, and ``~`` sorts after every character the API allows in an id, so
scans of ordinary rows can stop before intents. There is one intent per subject: a second
change of the same subject meets the first one's row in its own transaction (409) and either
takes it over (``replacing``) or gives way.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from shared.storage.tables import ConcurrentUpdate, Table, delete_op, replace_op

ROW_PREFIX = "~intent-"


@dataclass(frozen=True)
class Intent:
    partition: str
    subject: str  # what the change is about, e.g. "<incarnation>:person:<personId>" (no "/": a key)
    action: str  # what to do with it, e.g. "delete-person"
    payload: dict
    etag: str = ""  # of the stored row, once written or read
    written: datetime | None = None  # the stored row's Timestamp

    @property
    def row_key(self) -> str:
        return ROW_PREFIX + self.subject

    def create(self) -> tuple:
        """The transaction operation that writes this intent (fails if the subject has one)."""
        return ("create", self._row())

    def replacing(self, current: Intent) -> tuple:
        """The transaction operation that puts this intent in place of ``current`` (a pending
        change of the same subject that this one takes over), if it is still unchanged."""
        return replace_op(self._row(), current.etag)

    def resolve(self) -> tuple:
        """The transaction operation that resolves this intent, if nobody took it over."""
        return delete_op(self.partition, self.row_key, self.etag)

    def stored(self, result: dict) -> Intent:
        """This intent with the ETag a transaction's result for its operation reported."""
        return replace(self, etag=result["etag"])

    def _row(self) -> dict:
        return {"PartitionKey": self.partition, "RowKey": self.row_key, "Action": self.action,
                "Payload": json.dumps(self.payload, separators=(",", ":"))}


def read(table: Table, partition: str, subject: str) -> Intent | None:
    row = table.get(partition, ROW_PREFIX + subject)
    return None if row is None else _from_row(row)


def pending(table: Table, partition: str, subject_prefix: str = "") -> Iterator[Intent]:
    """Unresolved intents of one partition whose subject starts with ``subject_prefix``."""
    low = ROW_PREFIX + subject_prefix
    high = low[:-1] + chr(ord(low[-1]) + 1)  # the first key after every one starting with ``low``
    rows = table.query("PartitionKey eq @pk and RowKey ge @low and RowKey lt @high",
                       {"pk": partition, "low": low, "high": high})
    return (_from_row(row) for row in rows)


def resolve(table: Table, intent: Intent) -> bool:
    """Delete the intent unless it was taken over (ETag changed); False if it was, or is gone."""
    try:
        table.transact_matched([intent.resolve()])
    except ConcurrentUpdate:
        return False
    return True


def _from_row(row: dict) -> Intent:
    return Intent(partition=row["PartitionKey"], subject=row["RowKey"][len(ROW_PREFIX):], action=row["Action"],
                  payload=json.loads(row["Payload"]), etag=row.metadata["etag"],
                  written=row.metadata.get("timestamp"))

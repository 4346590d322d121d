"""Table row helpers: optimistic read-modify-write and counts with limits.

Every count that has a limit (faces per person, faces per list, persons per group, containers
and persons per subscription) is a column on one row, changed only under an ETag match. Two
requests that read the same count cannot both write it, so parallel adds never overshoot.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from shared.errors import Conflict, QuotaExceeded
from shared.storage.tables import ConcurrentUpdate, Table, delete_op, replace_op

_MAX_ATTEMPTS = 60
Record = TypeVar("Record")


def etag_of(row: dict) -> str:
    return row.metadata["etag"]  # TableEntity carries its etag in metadata


def settle(table: Table, build: Callable[[], list[tuple]]) -> list[dict]:
    """Commit the operations ``build`` makes from fresh reads, in one transaction, again
    until none of their ETags raced; returns the operations' results.

    ``build`` raises a FaceApiError (QuotaExceeded, NotFound...) to give up without writing,
    or returns no operations when there is nothing (left) to do.
    """
    for attempt in range(_MAX_ATTEMPTS):
        operations = build()
        if not operations:
            return []
        try:
            return table.transact_matched(operations)
        except ConcurrentUpdate:
            # Jittered backoff so a burst of writers to one row spreads out.
            time.sleep(random.uniform(0, 0.004 * (attempt + 1)))
    raise Conflict("There is a conflict with another operation on the same resource; please retry.")


def read(table: Table, partition_key: str, row_key: str, convert: Callable[[dict], Record],
         missing: Callable[[], Exception]) -> Record:
    """The row made into a record by ``convert``, or ``missing()`` raised."""
    row = table.get(partition_key, row_key)
    if row is None:
        raise missing()
    return convert(row)


def mutate(table: Table, partition_key: str, row_key: str,
           change: Callable[[dict], dict], missing: Callable[[], Exception]) -> dict:
    """Apply ``change`` to the current row until the ETag-matched replace wins.

    ``change`` gets a copy of the row and returns the new row, or raises a FaceApiError
    (e.g. QuotaExceeded) to give up without writing.
    """
    updated: list[dict] = []

    def build() -> list[tuple]:
        row = table.get(partition_key, row_key)
        if row is None:
            raise missing()
        updated[:] = [change(dict(row))]
        return [replace_op(updated[0], etag_of(row))]

    settle(table, build)
    return updated[0]


def delete_as_read(table: Table, partition_key: str, row_key: str, before: Callable[[dict], None],
                   missing: Callable[[], Exception]) -> dict:
    """Delete a row as last read (ETag match), after running ``before`` on that read, and return
    it: what the row held (a count, a list of faces) is final, since a write that changes the
    row meanwhile makes the delete read again. Of two racing deletes only one gets the row;
    the other gets ``missing()``."""
    deleted: list[dict] = []

    def build() -> list[tuple]:
        row = table.get(partition_key, row_key)  # after a lost race: gone (missing) or changed
        if row is None:
            raise missing()
        before(row)
        deleted[:] = [row]
        return [delete_op(partition_key, row_key, etag_of(row))]

    settle(table, build)
    return deleted[0]


def bounded(value: int, delta: int, maximum: int | None, what: str) -> int:
    """``value + delta``, refusing to go over ``maximum`` (and never below zero)."""
    result = value + delta
    if delta > 0 and maximum is not None and result > maximum:
        raise QuotaExceeded(f"The number of {what} has reached the limit ({maximum}).")
    return max(0, result)

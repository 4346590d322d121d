"""Long-running operations in Azure Tables: one row per operation, kept for a retention time.

Row layout (table ``operations``): PartitionKey = the id's first two hex digits (the sweep
deletes per partition), RowKey = operationId. Columns: Kind, Status, Created, LastAction,
Finished (RFC 3339 strings as the API shows them), LastActionAt (a datetime, to find
abandoned operations), Message, Resource (path under the api-version root of what the
operation made or changed: v1.0's ``resourceLocation``), Detail (JSON: what the sweep needs
to finish an operation whose process died) and ExpiresAt.

An operation expires FACE_OPERATION_RETENTION_HOURS (default 48, Azure's "The URL expires in
48 hours") after it was created. Reads refuse an expired operation at once (404), whether or
not the sweep has removed its row yet. A finished operation never changes again.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from shared import clock
from shared.errors import NotFound
from shared.storage.rows import mutate
from shared.operations.status import FAILED, FINISHED, NOT_STARTED, RUNNING
from shared.settings import env_int
from shared.storage.tables import Table

TABLE = "operations"
EXPIRES_AT = "ExpiresAt"


@dataclass
class Operation:
    operation_id: str
    kind: str  # what it does, e.g. "train", "addPersonFace"; the sweep finishes abandoned ones by kind
    status: str
    created: str
    last_action: str
    finished: str | None = None
    message: str | None = None
    resource: str = ""
    detail: dict = field(default_factory=dict)


def table() -> Table:
    return Table(TABLE)


def not_found(operation_id: str) -> NotFound:
    return NotFound(f"Operation '{operation_id}' is not found.", code="OperationNotFound")


def start(kind: str, resource: str = "", detail: dict | None = None, status: str = RUNNING) -> Operation:
    """Record a new operation in progress; write it before the work it describes starts, so a
    process that dies midway leaves a row the sweep can find (``abandoned``). With a finished
    ``status`` (SUCCEEDED), it records work already done inside its request: one write, not two."""
    now = clock.timestamp()
    operation = Operation(str(uuid.uuid4()), kind, status, now, now, now if status in FINISHED else None,
                          resource=resource, detail=detail or {})
    table().insert(_to_row(operation))
    return operation


def advance(operation_id: str, status: str, message: str | None = None) -> Operation:
    """Move an operation to ``status``; a finished one stays as it finished."""
    def change(row: dict) -> dict:
        current = _from_row(row)
        if current.status in FINISHED:
            return row
        now = clock.timestamp()
        current.status, current.last_action = status, now
        if status in FINISHED:
            current.finished, current.message = now, message
        return {**row, **_to_row(current)}

    return _from_row(mutate(table(), _partition(operation_id), operation_id, change,
                            lambda: not_found(operation_id)))


@contextmanager
def failing(operation: Operation, default: str = "The request failed.") -> Iterator[None]:
    """An error inside fails ``operation`` with the error's message (else ``default``), then
    propagates."""
    try:
        yield
    except Exception as err:
        advance(operation.operation_id, FAILED, getattr(err, "message", default))
        raise


def get(operation_id: str) -> Operation:
    """The operation; 404 when unknown or expired."""
    row = table().get(_partition(operation_id), operation_id)
    if row is None or row[EXPIRES_AT] <= clock.now():
        raise not_found(operation_id)
    return _from_row(row)


def abandoned(idle: timedelta, kinds: tuple[str, ...]) -> Iterator[Operation]:
    """Operations of ``kinds`` still in progress with no action for ``idle``: their process died."""
    of_kinds = " or ".join(f"Kind eq @kind{index}" for index in range(len(kinds)))
    rows = table().query(f"LastActionAt lt @cutoff and ( Status eq @running or Status eq @waiting ) and ( {of_kinds} )",
                         {"cutoff": clock.now() - idle, "running": RUNNING, "waiting": NOT_STARTED,
                          **{f"kind{index}": kind for index, kind in enumerate(kinds)}})
    return map(_from_row, rows)


def sweep_expired() -> int:
    """Delete the rows of expired operations; returns how many."""
    return table().delete_matching(f"{EXPIRES_AT} le @now", {"now": clock.now()})


def timeout() -> timedelta:
    """How long an operation may go without progress before the sweep takes its process for dead."""
    return timedelta(seconds=env_int("FACE_OPERATION_TIMEOUT_SECONDS", 600))


def _partition(operation_id: str) -> str:
    return operation_id[:2]


def _retention() -> timedelta:
    return timedelta(hours=env_int("FACE_OPERATION_RETENTION_HOURS", 48))


def _to_row(op: Operation) -> dict:
    return {"PartitionKey": _partition(op.operation_id), "RowKey": op.operation_id, "Kind": op.kind,
           "Status": op.status, "Created": op.created, "LastAction": op.last_action,
           "LastActionAt": clock.parse(op.last_action), "Finished": op.finished or "", "Message": op.message or "",
           "Resource": op.resource, "Detail": json.dumps(op.detail, separators=(",", ":")),
           EXPIRES_AT: clock.parse(op.created) + _retention()}


def _from_row(row: dict) -> Operation:
    return Operation(row["RowKey"], row["Kind"], row["Status"], row["Created"], row["LastAction"],
                     row.get("Finished") or None, row.get("Message") or None, row.get("Resource", ""),
                     json.loads(row.get("Detail") or "{}"))


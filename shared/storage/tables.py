"""A narrow Azure Table interface: point reads, writes, filtered scans, batched deletes.

Tables are created on first use (once per process and name), so a fresh storage account
(or a fresh Azurite) needs no provisioning step.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from itertools import islice

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, TableTransactionError, UpdateMode

from shared.storage.clients import create_once, table_service
from shared.storage.naming import table_name

BATCH_LIMIT = 100  # Azure Tables' maximum operations per transaction

# Shared by every Table's get_many; never used from inside one of its own tasks.
_point_readers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="table-get")


class EntityExists(Exception):
    """insert() found a row with the same keys."""


class ConcurrentUpdate(Exception):
    """The row changed (or vanished) since it was read; the caller's etag is stale."""


class Table:
    def __init__(self, base_name: str):
        self.name = table_name(base_name)
        self._client = _ensure_table(self.name)

    def get(self, partition_key: str, row_key: str) -> dict | None:
        try:
            return self._client.get_entity(partition_key, row_key)
        except ResourceNotFoundError:
            return None

    def get_many(self, partition_key: str, row_keys: Iterable[str]) -> list[dict]:
        """Point reads in parallel, in the order of ``row_keys``; missing rows are left out."""
        return self.get_each((partition_key, key) for key in row_keys)

    def get_each(self, keys: Iterable[tuple[str, str]]) -> list[dict]:
        """Point reads of (PartitionKey, RowKey) pairs in parallel, in order; missing rows left out."""
        rows = _point_readers.map(lambda pair: self.get(*pair), keys)
        return [row for row in rows if row is not None]

    def insert(self, entity: dict) -> None:
        try:
            self._client.create_entity(entity)
        except ResourceExistsError as err:
            raise EntityExists(f"{entity['PartitionKey']}/{entity['RowKey']}") from err

    def upsert(self, entity: dict) -> None:
        """Create the row or merge these columns into it (last writer wins)."""
        self._client.upsert_entity(entity, mode=UpdateMode.MERGE)

    def replace(self, entity: dict, etag: str) -> None:
        """Replace a row only if it still has ``etag`` (optimistic concurrency).

        Sent as a one-operation transaction (a POST), which the SDK never resends after a
        lost answer: a resent PUT that had landed would fail its ETag match, and the caller
        would read the row again and apply its change twice (a counter counted twice)."""
        self.transact_matched([replace_op(entity, etag)])

    def transact_matched(self, operations: list[tuple]) -> list[dict]:
        """All-or-nothing writes within one partition whose conditions must all still hold:
        ConcurrentUpdate when an ETag no longer matches, a row to change is gone or a row to
        create exists. Returns each operation's result (its new "etag")."""
        try:
            return self._client.submit_transaction(operations)
        except TableTransactionError as err:
            if err.status_code in (404, 409, 412):
                raise ConcurrentUpdate(str(err.message)) from err
            raise

    def delete(self, partition_key: str, row_key: str) -> None:
        """Idempotent: deleting a missing row is not an error."""
        self._client.delete_entity(partition_key, row_key)

    def delete_existing(self, partition_key: str, row_key: str) -> bool:
        """Delete a row; False when it was already gone, so of two racing deletes exactly one
        gets True (and may release what the row held)."""
        try:
            self._client.submit_transaction([delete_op(partition_key, row_key)])
        except TableTransactionError as err:
            if err.status_code == 404:
                return False
            raise
        return True

    def query(self, query_filter: str, parameters: dict | None = None,
              select: list[str] | None = None) -> Iterator[dict]:
        """Rows matching an OData filter; use @name placeholders with ``parameters``."""
        return iter(self._client.query_entities(query_filter, parameters=parameters, select=select))

    def partition(self, partition_key: str, select: list[str] | None = None) -> Iterator[dict]:
        return self.query("PartitionKey eq @pk", {"pk": partition_key}, select)

    def delete_rows(self, partition_key: str, row_keys: Iterable[str]) -> int:
        """Delete rows of one partition in transactions of up to 100, taking the keys as they
        come (a scan may feed them); returns rows deleted."""
        keys, deleted = iter(row_keys), 0
        while chunk := list(islice(keys, BATCH_LIMIT)):
            deleted += len(chunk)
            try:
                self._client.submit_transaction(
                    [("delete", {"PartitionKey": partition_key, "RowKey": key}) for key in chunk])
            except TableTransactionError as err:
                if err.status_code != 404:
                    raise
                # Someone else deleted a row of this chunk first; finish one by one.
                for key in chunk:
                    self.delete(partition_key, key)
        return deleted

    def delete_matching(self, query_filter: str, parameters: dict | None = None) -> int:
        """Delete every row an OData filter matches, as the scan finds them; returns how many."""
        deleter = BatchDeleter(self)
        for row in self.query(query_filter, parameters, select=["PartitionKey", "RowKey"]):
            deleter.add(row["PartitionKey"], row["RowKey"])
        return deleter.finish()

    def transact(self, operations: list[tuple[str, dict]]) -> None:
        """All-or-nothing writes within one partition (SDK operation tuples, at most 100)."""
        self._client.submit_transaction(operations)

    def transact_if(self, operations: list[tuple]) -> bool:
        """``transact_matched``, answering False instead of raising when a condition fails:
        nothing was written."""
        try:
            self.transact_matched(operations)
        except ConcurrentUpdate:
            return False
        return True


def merge_step(entity: dict, etag: str | None = None) -> tuple:
    """A transaction step merging columns into an existing row: only if it is unchanged since
    ``etag`` was read, or (no etag) only if it still exists, so a deleted row is never revived."""
    options: dict = {"mode": UpdateMode.MERGE}
    if etag is not None:
        options |= {"etag": etag, "match_condition": MatchConditions.IfNotModified}
    return ("update", entity, options)


def replace_op(entity: dict, etag: str) -> tuple:
    """A transaction operation replacing ``entity`` if its row still has ``etag``."""
    return ("update", entity, {"mode": UpdateMode.REPLACE, **_if_unchanged(etag)})


def delete_op(partition_key: str, row_key: str, etag: str | None = None) -> tuple:
    """A transaction operation deleting a row (with ``etag``: only if still unchanged)."""
    return ("delete", {"PartitionKey": partition_key, "RowKey": row_key}, _if_unchanged(etag))


def _if_unchanged(etag: str | None) -> dict:
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified} if etag else {}


class BatchDeleter:
    """Deletes rows as a scan finds them, in per-partition transactions of up to 100, so
    memory stays bounded however many rows go; safe to run concurrently and repeatedly."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._pending: dict[str, list[str]] = {}
        self._removed = 0

    def add(self, partition_key: str, row_key: str) -> None:
        keys = self._pending.setdefault(partition_key, [])
        keys.append(row_key)
        if len(keys) == BATCH_LIMIT:
            self._removed += self.table.delete_rows(partition_key, self._pending.pop(partition_key))

    def finish(self) -> int:
        for partition_key, keys in self._pending.items():
            self._removed += self.table.delete_rows(partition_key, keys)
        self._pending.clear()
        return self._removed


def _ensure_table(name: str) -> TableClient:
    service = table_service()
    create_once(service.url, name, lambda: service.create_table_if_not_exists(name))
    return _table_client(service, name)


@lru_cache(maxsize=256)
def _table_client(service: TableServiceClient, name: str) -> TableClient:
    """One client per table and service, shared by threads (the SDK's clients are thread-safe):
    building one assembles a whole pipeline, a tenth of the GIL time a detect held under load."""
    return service.get_table_client(name)

"""The PersonDirectory's subscription-wide counts (its persons, its dynamic person groups).

Each count is one row of ``dircounts``, created on first use and changed only under an ETag
match (storage.rows.settle), so parallel creates never take a count past its limit.
"""
from __future__ import annotations

from shared.storage.rows import bounded, etag_of, settle
from shared.storage.tables import Table, replace_op

TABLE, PARTITION = "dircounts", "counts"


def add(name: str, delta: int, maximum: int | None, what: str) -> None:
    """Change count ``name`` by ``delta``; QuotaExceeded (nothing written) past ``maximum``."""
    table = Table(TABLE)

    def build() -> list[tuple]:
        row = table.get(PARTITION, name)
        entity = {"PartitionKey": PARTITION, "RowKey": name,
                  "Value": bounded(0 if row is None else int(row["Value"]), delta, maximum, what)}
        return [("create", entity) if row is None else replace_op(entity, etag_of(row))]

    settle(table, build)

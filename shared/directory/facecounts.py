"""How many faces the directory holds per recognition model, kept in step with the face packs.

One row per ``dirfaces`` partition (RowKey ``~counts``, after every pack key), a column per
recognition model. Every write of a pack changes that row in the same entity-group
transaction (ETag-matched), so the counts cannot drift from the packs, whatever crashes:
both change or neither. The first write in a partition without the row (a directory from
before the row existed) counts the partition's packs, keys and face ids only, and creates the
row in that same transaction. The data inventory reads the 256 rows instead of every pack
(shared/inventory/directory.py); tests/inventory_scan.py checks them against every pack.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from shared.storage.rows import etag_of
from shared.storage.tables import Table, replace_op

COUNTS = "~counts"  # sorts after every pack key (hex digits of a personId)
_scanners = ThreadPoolExecutor(max_workers=16, thread_name_prefix="facecounts-scan")


def model_of(pack_key: str) -> str:
    return pack_key.split("_", 1)[1]  # "<personId>_<recognitionModel>": a UUID has no "_"


def counted(rows: Iterable[dict]) -> dict[str, int]:
    """Faces per recognition model of some pack rows (RowKey and FaceIds read)."""
    totals: dict[str, int] = {}
    for row in rows:
        if row["RowKey"] != COUNTS:
            model = model_of(row["RowKey"])
            totals[model] = totals.get(model, 0) + len(json.loads(row.get("FaceIds") or "[]"))
    return totals


def scan(table: Table, partition: str) -> dict[str, int]:
    """Faces per model of one partition, counted from its packs."""
    return counted(table.query("PartitionKey eq @pk and RowKey lt @counts", {"pk": partition, "counts": COUNTS},
                               select=["RowKey", "FaceIds"]))


def step(table: Table, partition: str, deltas: dict[str, int]) -> list[tuple]:
    """The operation changing ``partition``'s counts by ``deltas`` (model -> faces), from a
    fresh read, for the transaction that writes the packs ([] when nothing changes)."""
    deltas = {model: delta for model, delta in deltas.items() if delta}
    if not deltas:
        return []
    row = table.get(partition, COUNTS)
    current = scan(table, partition) if row is None else _columns(row)
    entity = {"PartitionKey": partition, "RowKey": COUNTS, **current}
    for model, delta in deltas.items():
        entity[model] = max(0, int(current.get(model, 0)) + delta)
    return [("create", entity)] if row is None else [replace_op(entity, etag_of(row))]


def of_partitions(table: Table, partitions: list[str]) -> dict[str, int]:
    """Faces per model in all of ``partitions``: their counts rows (point reads in parallel),
    and a count of the packs of any partition written before counts rows existed."""
    rows = {row["PartitionKey"]: row for row in table.get_each((partition, COUNTS) for partition in partitions)}
    missing = [partition for partition in partitions if partition not in rows]
    totals: dict[str, int] = {}
    for found in [*map(_columns, rows.values()), *_scanners.map(lambda partition: scan(table, partition), missing)]:
        for model, faces in found.items():
            totals[model] = totals.get(model, 0) + faces
    return totals


def _columns(row: dict) -> dict[str, int]:
    return {name: int(value) for name, value in row.items() if name.startswith("recognition_")}

"""Counting rows straight from a table, keys only, one partition per worker.

The inventory counts what is stored rather than trusting a cache: a projected query
(``select`` of one or two small columns, never a template) per partition, partitions in
parallel, so the cost is the number of rows times a few dozen bytes.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from shared.storage.tables import Table

Result = TypeVar("Result")
_WORKERS = 16
_pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="inventory-scan")


def each_partition(table: Table, partitions: Iterable[str], columns: list[str],
                   count: Callable[[Iterable[dict]], Result]) -> dict[str, Result]:
    """``count`` of each partition's rows (only ``columns`` read), partitions in parallel."""
    keys = list(dict.fromkeys(partitions))
    results = _pool.map(lambda key: count(table.partition(key, select=columns)), keys)
    return dict(zip(keys, results))


def parallel(work: Iterable[Callable[[], Result]]) -> list[Result]:
    """Run independent reads side by side (e.g. every source's summary), in order."""
    return list(_pool.map(lambda job: job(), list(work)))


def rows(found: Iterable[dict]) -> int:
    return sum(1 for _ in found)


ALL = 1_000_000_000  # "every row" for listing functions that take a page size

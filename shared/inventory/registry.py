"""The registered inventory sources, in the order the inventory lists them.

A new store (a PostgreSQL engine's vectors, abuse-monitoring templates) adds its source
module and one line here; the routes, the report and the console take it from there.
"""
from __future__ import annotations

from shared.inventory import abuse, directory, faceids, galleries, liveness, postgres, snapshots
from shared.inventory.source import Source

_SOURCES: list[Source] = [galleries.SOURCE, directory.SOURCE, faceids.SOURCE, liveness.SOURCE, snapshots.SOURCE,
                          abuse.SOURCE, postgres.SOURCE]


def register(source: Source) -> None:
    """Add a source (replacing one of the same name)."""
    _SOURCES[:] = [known for known in _SOURCES if known.name != source.name] + [source]


def sources() -> list[Source]:
    return list(_SOURCES)

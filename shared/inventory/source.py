"""The one interface every inventory source implements.

A source describes one store of biometric data (the galleries' tables, the directory,
faceIds, liveness sessions, snapshot blobs; later the vectors a PostgreSQL engine holds and
liveness abuse-monitoring templates). It answers three questions:

- ``summary()``: what the store holds right now, counted from the store itself (or from
  counters its own write path keeps in one transaction with the rows they count), as JSON
  with ``templates`` (how many biometric templates) and, where the data expires,
  ``nextExpiry``/``lastExpiry`` (ISO 8601) at its top level;
- ``holdings(person_id)``: everything it holds about one personId, as JSON metadata (ids,
  names, userData, recognition models, counts, dates; never template bytes);
- ``erase(person_id)``: delete all of that through the store's own delete path (the same
  intents, tombstones, journal entries and index removal as the API's deletes), returning
  what was deleted in the shape of ``holdings``.

A store that holds nothing linked to a person (faceIds, liveness sessions) answers [] to both.
"""
from __future__ import annotations

from typing import Protocol


class Source(Protocol):
    name: str  # the key of this source's section in the inventory JSON, e.g. "galleries"
    title: str  # what the console calls it, e.g. "Face lists and person groups"

    def summary(self) -> dict: ...

    def holdings(self, person_id: str) -> list[dict]: ...

    def erase(self, person_id: str) -> list[dict]: ...


class NothingPerPerson:
    """For a store whose data is linked to no personId (faceIds, liveness sessions, snapshot
    blobs, whose copies leave with the rows they index)."""

    def holdings(self, person_id: str) -> list[dict]:
        return []

    def erase(self, person_id: str) -> list[dict]:
        return []

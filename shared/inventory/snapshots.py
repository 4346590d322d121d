"""Inventory source: snapshot blobs (trained indexes of galleries, the directory's compacted
indexes and template packs), all encrypted. They hold copies of templates the tables hold;
a deleted person or face is hidden from them at once (tombstones, journal removals) and leaves
them at the next training or compaction. Listed from the blob listing itself (names and sizes).
"""
from __future__ import annotations

from shared.directory.artifacts import PREFIX as DIRECTORY_PREFIX
from shared.galleries import snapshots
from shared.galleries.kinds import KINDS
from shared.inventory.source import NothingPerPerson


def _owner(name: str) -> str:
    """Who a snapshot blob belongs to, e.g. "PersonGroup/g1" or "PersonDirectory/recognition_04"."""
    parts = name.split("/")
    if name.startswith(DIRECTORY_PREFIX):
        return f"PersonDirectory/{parts[1]}"
    kind = KINDS.get(parts[0])
    return f"{kind.label}/{parts[1]}" if kind is not None and len(parts) > 1 else parts[0]


class SnapshotSource(NothingPerPerson):
    name = "snapshots"
    title = "Index snapshots (encrypted blobs)"

    def summary(self) -> dict:
        owners: dict[str, dict] = {}
        for name, size in snapshots.store().sizes():
            entry = owners.setdefault(_owner(name), {"owner": _owner(name), "blobs": 0, "bytes": 0})
            entry["blobs"] += 1
            entry["bytes"] += size
        listed = sorted(owners.values(), key=lambda entry: entry["owner"])
        return {"blobs": sum(entry["blobs"] for entry in listed), "bytes": sum(entry["bytes"] for entry in listed),
                "owners": listed}


SOURCE = SnapshotSource()

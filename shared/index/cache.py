"""Warm per-process cache: one loaded GalleryIndex per container.

Query paths call ``get(container_key, snapshot_name, loader)`` with the snapshot name
read from the container's row; the cached index is reused while the name matches and
reloaded (once, however many threads ask) when it changes. Any change reloads, not only
a "newer" name: names need not sort, and a request that read the row just before a
retrain at worst costs one extra load.

Loads of different containers run in parallel; a container's old index is released
before its new one loads, so memory holds one copy per container (plus whatever
requests in flight still reference). Least recently used indexes are evicted above a
byte budget (FACE_INDEX_CACHE_MB).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.index.gallery import GalleryIndex
from shared.settings import env_int

Loader = Callable[[str], GalleryIndex]


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    name: str | None = None
    index: GalleryIndex | None = None


class SnapshotCache:
    def __init__(self, max_bytes: int | None = None):
        self.max_bytes = max_bytes if max_bytes is not None else env_int("FACE_INDEX_CACHE_MB", 4096) << 20
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, snapshot_name: str, loader: Loader) -> GalleryIndex:
        """The index of container ``key`` at ``snapshot_name``; ``loader(name)`` loads it."""
        with self._lock:
            entry = self._entries.setdefault(key, _Entry())
            self._entries.move_to_end(key)
        with entry.lock:
            if entry.name != snapshot_name or entry.index is None:
                entry.name, entry.index = None, None  # release the old index before loading
                index = loader(snapshot_name)
                entry.name, entry.index = snapshot_name, index
                self._evict(keep=key)
            return entry.index

    def drop(self, key: str) -> None:
        """Forget container ``key`` (deleted, or its index removed)."""
        with self._lock:
            self._entries.pop(key, None)

    def keys(self) -> list[str]:
        with self._lock:
            return [k for k, e in self._entries.items() if e.index is not None]

    def _evict(self, keep: str) -> None:
        with self._lock:
            sizes = {k: e.index.nbytes for k, e in self._entries.items() if e.index is not None}
            total = sum(sizes.values())
            for k in list(self._entries):  # oldest first
                if total <= self.max_bytes:
                    break
                if k != keep and k in sizes:
                    total -= sizes[k]
                    del self._entries[k]

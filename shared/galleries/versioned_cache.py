"""A per-process LRU of values that stay valid while their source row's ETag is unchanged."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class VersionedCache(Generic[Value]):
    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[str, Value]] = OrderedDict()

    def get(self, key: str, version: str, load: Callable[[], Value]) -> Value:
        """The value cached for ``key`` at ``version``, else ``load()`` (then cached)."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] != version:
            entry = (version, load())
            with self._lock:
                self._entries[key] = entry
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return entry[1]

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

"""Account-level settings that the API itself changes (as opposed to app settings, which the
owner sets in the environment): one Table row per setting, read through a short per-process
cache so that every instance sees a change within FACE_ACCOUNT_SETTINGS_CACHE_SECONDS
(default 5 s); the instance that wrote a value sees it at once.
"""
from __future__ import annotations

import json
import threading
import time

from shared.settings import env_float
from shared.storage.tables import Table

TABLE = "settings"
_PARTITION = "account"
_VALUE = "Value"
_cache: dict[str, tuple[float, object]] = {}
_lock = threading.Lock()


def _cache_seconds() -> float:
    return env_float("FACE_ACCOUNT_SETTINGS_CACHE_SECONDS", 5.0)


def read(name: str, default: object, fresh: bool = False) -> object:
    """The stored value of ``name`` (JSON), ``default`` when never set. ``fresh`` bypasses the
    cache (for a decision that must not act on a value another instance already changed)."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(name)
    if cached is not None and not fresh and now - cached[0] < _cache_seconds():
        return cached[1]
    row = Table(TABLE).get(_PARTITION, name)
    value = default if row is None else json.loads(row[_VALUE])
    with _lock:
        _cache[name] = (now, value)
    return value


def write(name: str, value: object) -> None:
    Table(TABLE).upsert({"PartitionKey": _PARTITION, "RowKey": name, _VALUE: json.dumps(value)})
    with _lock:
        _cache[name] = (time.monotonic(), value)

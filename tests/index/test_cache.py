from __future__ import annotations

import threading
import time

import numpy as np

from shared.index import SnapshotCache, build_index


class Loader:
    """Counts loads; each snapshot name loads a tiny distinct index."""

    def __init__(self, delay: float = 0.0):
        self.calls: list[str] = []
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, name: str):
        with self._lock:
            self.calls.append(name)
        time.sleep(self.delay)
        vectors = np.eye(4, dtype=np.float32)
        return build_index(vectors, range(4), [f"{name}-{i}" for i in range(4)], [None] * 4)


def test_reuses_until_the_snapshot_name_changes():
    cache, loader = SnapshotCache(), Loader()
    first = cache.get("lfl-1", "s1", loader)
    assert cache.get("lfl-1", "s1", loader) is first
    second = cache.get("lfl-1", "s2", loader)
    assert second is not first and second.search(np.eye(4)[0])[0][0].face_id == "s2-0"
    assert cache.get("lfl-1", "s2", loader) is second
    assert loader.calls == ["s1", "s2"]


def test_containers_are_independent_and_drop_forgets():
    cache, loader = SnapshotCache(), Loader()
    a, b = cache.get("a", "s1", loader), cache.get("b", "s1", loader)
    assert a is not b and sorted(cache.keys()) == ["a", "b"]
    cache.drop("a")
    assert cache.keys() == ["b"]
    assert cache.get("a", "s1", loader) is not a
    assert loader.calls == ["s1", "s1", "s1"]


def test_concurrent_requests_load_once():
    cache, loader = SnapshotCache(), Loader(delay=0.2)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("pg", "s1", loader))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loader.calls == ["s1"] and all(r is results[0] for r in results)


def test_failed_load_is_retried():
    cache, calls = SnapshotCache(), []

    def flaky(name):
        calls.append(name)
        if len(calls) == 1:
            raise OSError("blob unavailable")
        return Loader()(name)

    try:
        cache.get("pg", "s1", flaky)
    except OSError:
        pass
    assert cache.get("pg", "s1", flaky).count == 4 and len(calls) == 2


def test_least_recently_used_is_evicted_over_budget():
    loader = Loader()
    one = loader("x").nbytes
    cache = SnapshotCache(max_bytes=2 * one)
    cache.get("a", "s", loader)
    cache.get("b", "s", loader)
    cache.get("a", "s", loader)  # a is now more recent than b
    cache.get("c", "s", loader)
    assert sorted(cache.keys()) == ["a", "c"]

"""Per-credential request rate limits: one token bucket per caller credential.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens per second; each request
takes one token or is refused at once with 429, Azure's envelope and a ``Retry-After`` of the
time until a token is back. Nothing waits or queues: a refused request costs only this check.

Limits are per role (the caller's strongest), as settings; 0 switches a role's limit off:

    FACE_RATE_ADMIN_PER_SECOND, FACE_RATE_ADMIN_BURST             default 10 and 10
    FACE_RATE_RECOGNIZER_PER_SECOND, FACE_RATE_RECOGNIZER_BURST   default 10 and 10

(Azure Face S0 allows 10 transactions per second.) Buckets live in this process's memory, so
with N instances (or worker processes) a credential can reach N times its rate in all. Memory
stays bounded: a bucket that has refilled completely is forgotten (a new bucket is full, so
nothing changes for its caller), and at most MAX_BUCKETS are kept, least recently used first out.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from shared.api.auth import Caller, Role
from shared.errors import TooManyRequests
from shared.settings import env_float

MAX_BUCKETS = 10_000


@dataclass(frozen=True)
class Limit:
    rate: float  # tokens per second; 0 = unlimited
    burst: float

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0


def role_limit(role: Role) -> Limit:
    if role is Role.ADMIN:
        return Limit(env_float("FACE_RATE_ADMIN_PER_SECOND", 10.0), env_float("FACE_RATE_ADMIN_BURST", 10.0))
    return Limit(env_float("FACE_RATE_RECOGNIZER_PER_SECOND", 10.0), env_float("FACE_RATE_RECOGNIZER_BURST", 10.0))


@dataclass
class _Bucket:
    tokens: float
    updated: float
    full_at: float  # when it will have refilled completely if left alone


class TokenBuckets:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_buckets: int = MAX_BUCKETS):
        self._clock = clock
        self._max_buckets = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, limit: Limit) -> float:
        """Take one token for ``key``: 0 when granted, else the seconds until one is back."""
        if limit.unlimited:
            return 0.0
        burst = max(1.0, limit.burst)
        with self._lock:
            now = self._clock()
            self._forget_idle(now)
            bucket = self._buckets.pop(key, None) or _Bucket(burst, now, now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * limit.rate)
            bucket.updated = now
            wait = 0.0
            if bucket.tokens >= 1:
                bucket.tokens -= 1
            else:
                wait = (1 - bucket.tokens) / limit.rate
            bucket.full_at = now + (burst - bucket.tokens) / limit.rate
            self._buckets[key] = bucket  # most recently used last
            return wait

    def __len__(self) -> int:
        return len(self._buckets)

    def _forget_idle(self, now: float) -> None:
        """Drop full buckets from the least recently used end, and the oldest beyond the cap."""
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if oldest.full_at > now and len(self._buckets) < self._max_buckets:
                return
            self._buckets.popitem(last=False)


_buckets = TokenBuckets()


def admit(caller: Caller) -> None:
    """Let the request through or raise 429 TooManyRequests with Retry-After."""
    wait = _buckets.take(caller.credential, role_limit(caller.role))
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests(f"Rate limit is exceeded. Try again in {seconds} seconds.", retry_after=wait)

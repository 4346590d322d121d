"""Readiness: can this instance answer requests (models loaded, storage reachable, key set)?"""
from __future__ import annotations

import logging
from collections.abc import Callable

from shared.storage import crypto
from shared.storage.faceids import TABLE as FACE_ID_TABLE
from shared.storage.tables import Table

logger = logging.getLogger(__name__)


def _models() -> None:
    from shared.engine.engine import get_engine  # the engine loads ONNX models on first use

    get_engine().warm_up()


def _storage() -> None:
    Table(FACE_ID_TABLE).get("health", "probe")  # one round trip; creates the table if new


def _key(ring: crypto.KeyRing) -> Callable[[], None]:
    def check() -> None:
        if not ring.is_configured():
            raise RuntimeError(f"{ring.key_setting} is missing or invalid")

    return check


CHECKS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("templateKey", _key(crypto.TEMPLATE_KEYS)),
    ("livenessTokenKey", _key(crypto.LIVENESS_TOKEN_KEYS)),
    ("storage", _storage),
    ("models", _models),
)


def readiness() -> dict[str, str]:
    """"ok" or "unavailable" per check; failures are logged, never shown to callers."""
    results = {}
    for name, check in CHECKS:
        try:
            check()
            results[name] = "ok"
        except Exception:  # any failure means not ready; the log has the reason
            logger.exception("health check %s failed", name)
            results[name] = "unavailable"
    return results

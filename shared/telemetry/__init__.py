"""Telemetry: one span per Face operation and a few metrics, exported to Application Insights
through OpenTelemetry, only when APPLICATIONINSIGHTS_CONNECTION_STRING is set.

Without that setting nothing here imports OpenTelemetry and every function is a no-op, so
local runs and tests pay nothing. With it, ``configure()`` (called once by function_app)
sets up azure-monitor-opentelemetry, unless the Functions Python worker already did
(PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY=true), and the recorders below go live.

What telemetry may carry: operation names, api versions, statuses, request ids, roles,
kinds, counts and durations. Never image bytes, templates, names, userData or keys; callers
pass only such values, and tests/deploy/test_telemetry.py scans a full scenario for leaks.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from shared.settings import env_str

CONNECTION_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"

# Attribute names (one place, so dashboards and queries have one vocabulary).
OPERATION = "face.operation"
API_VERSION = "face.api_version"
STATUS = "http.response.status_code"
REQUEST_ID = "face.apim_request_id"
ROLE = "face.caller_role"


class OperationSpan(Protocol):
    def set(self, key: str, value: str | int) -> None:
        """Add an attribute to the operation's span."""


class _Inactive:
    """The span of an operation while telemetry is off."""

    def set(self, key: str, value: str | int) -> None:
        pass


_live = None  # shared.telemetry.recorders.Recorders once telemetry is on


def configure() -> None:
    """Turn telemetry on when Application Insights is configured; idempotent."""
    if _live is not None or not env_str(CONNECTION_SETTING):
        return
    from shared.telemetry import recorders

    recorders.configure_exporters()
    activate()


def activate(tracer_provider=None, meter_provider=None) -> None:
    """Record through these providers (default: the global ones the exporters set up)."""
    global _live
    from shared.telemetry.recorders import Recorders

    _live = Recorders(tracer_provider, meter_provider)


def deactivate() -> None:
    global _live
    _live = None


@contextmanager
def operation(name: str, request_id: str) -> Iterator[OperationSpan]:
    """The span around one Face operation; ``.set(key, value)`` adds attributes as they
    become known (api version, role, status)."""
    if _live is None:
        yield _Inactive()
        return
    with _live.operation(name, request_id) as span:
        yield span


def faces_detected(count: int, detection_model: str) -> None:
    if _live is not None:
        _live.faces_detected(count, detection_model)


def identify_timer(kind: str, queries: int) -> AbstractContextManager[None]:
    """Times the gallery search of one identify call (``with telemetry.identify_timer(...):``)."""
    return _timed("identify_finished", kind, queries)


def index_load_timer(kind: str) -> AbstractContextManager[None]:
    """Times fetching, decrypting and loading one index snapshot."""
    return _timed("index_loaded", kind)


def swept(kind: str, removed: int) -> None:
    if _live is not None:
        _live.swept(kind, removed)


@contextmanager
def _timed(recorder: str, *attributes: str | int) -> Iterator[None]:
    """Records the block's duration with ``Recorders.<recorder>`` if it completes."""
    started = time.perf_counter()
    yield
    if _live is not None:
        getattr(_live, recorder)(time.perf_counter() - started, *attributes)

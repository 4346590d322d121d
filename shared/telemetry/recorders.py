"""The live side of shared.telemetry: OpenTelemetry tracer and meter instruments.

Imported only when telemetry is on (it imports OpenTelemetry)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import metrics, trace

from shared import telemetry

_SCOPE = "face-api"


def configure_exporters() -> None:
    """Azure Monitor exporters for traces, metrics and logs, unless the Functions Python worker
    already installed an SDK tracer provider (PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY).
    Authentication follows APPLICATIONINSIGHTS_AUTHENTICATION_STRING (managed identity)."""
    if hasattr(trace.get_tracer_provider(), "add_span_processor"):
        return
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor()


class Recorders:
    def __init__(self, tracer_provider=None, meter_provider=None):
        self._tracer = trace.get_tracer(_SCOPE, tracer_provider=tracer_provider)
        meter = metrics.get_meter(_SCOPE, meter_provider=meter_provider)
        self._faces = meter.create_histogram("face.detect.faces", unit="{face}",
                                             description="faces found per detect call")
        self._identify = meter.create_histogram("face.identify.duration", unit="ms",
                                                description="gallery search time of one identify call")
        self._index_loads = meter.create_histogram("face.index.load.duration", unit="ms",
                                                   description="time to fetch, decrypt and load an index snapshot")
        self._swept = meter.create_counter("face.sweep.removed", unit="{item}",
                                           description="expired or orphaned items removed by the sweep")

    @contextmanager
    def operation(self, name: str, request_id: str) -> Iterator[_Attributes]:
        attributes = {telemetry.OPERATION: name, telemetry.REQUEST_ID: request_id}
        with self._tracer.start_as_current_span(f"face {name}", attributes=attributes) as span:
            yield _Attributes(span)

    def faces_detected(self, count: int, detection_model: str) -> None:
        self._faces.record(count, {"face.detection_model": detection_model})

    def identify_finished(self, seconds: float, kind: str, queries: int) -> None:
        self._identify.record(seconds * 1000.0, {"face.gallery_kind": kind, "face.queries": queries})

    def index_loaded(self, seconds: float, kind: str) -> None:
        self._index_loads.record(seconds * 1000.0, {"face.gallery_kind": kind})

    def swept(self, kind: str, removed: int) -> None:
        self._swept.add(removed, {"face.sweep_kind": kind})


class _Attributes:
    def __init__(self, span: trace.Span):
        self._span = span

    def set(self, key: str, value: str | int) -> None:
        self._span.set_attribute(key, value)
        if key == telemetry.STATUS and isinstance(value, int) and value >= 500:
            self._span.set_status(trace.StatusCode.ERROR)

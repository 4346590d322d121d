"""Telemetry: what the app records with OpenTelemetry on, over a full scenario (detect, enrol,
train, identify, delete, sweep), read back from the SDK's in-memory exporters; and that with
telemetry off nothing of OpenTelemetry is even imported.

Privacy: no span, attribute, metric point or log record may carry image bytes, templates,
names, userData or keys. Logs of the devhost (the local stand-in for the Functions host,
which logs request lines) are left out: in Azure the host's own request logs are the
platform's, see docs/deploy.md.
"""
from __future__ import annotations

import base64
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from azure.ai.vision.face import FaceAdministrationClient, FaceClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ResourceNotFoundError
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gallery_support import photos
from shared import telemetry
from shared.storage.faceids import FaceIdStore
from tests.conftest import REPO_ROOT


@dataclass
class Exported:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    logs: InMemoryLogRecordExporter

    def span_attributes(self) -> list[dict]:
        return [dict(span.attributes) for span in self.spans.get_finished_spans()]

    def metric_points(self) -> dict[str, list]:
        points: dict[str, list] = {}
        data = self.metrics.get_metrics_data()
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    points.setdefault(metric.name, []).extend(metric.data.data_points)
        return points

    def everything_as_text(self) -> str:
        data = self.metrics.get_metrics_data()
        parts = [span.to_json() for span in self.spans.get_finished_spans()]
        parts += [data.to_json() if data else ""]
        parts += [record.to_json() for record in self.logs.get_finished_logs()]
        return "\n".join(parts)

    def every_attribute_value(self) -> Iterator[object]:
        for attributes in self.span_attributes():
            yield from attributes.values()
        for points in self.metric_points().values():
            for point in points:
                yield from point.attributes.values()
        for record in self.logs.get_finished_logs():
            yield from (record.log_record.attributes or {}).values()


class _NotDevhost(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith("devhost")


@pytest.fixture
def exported(service) -> Iterator[Exported]:
    """Telemetry on, recording into in-memory exporters, for one test."""
    spans, metrics, logs = InMemorySpanExporter(), InMemoryMetricReader(), InMemoryLogRecordExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    handler = LoggingHandler(level=logging.INFO, logger_provider=logger_provider)
    handler.addFilter(_NotDevhost())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    telemetry.activate(tracer_provider, MeterProvider(metric_readers=[metrics]))
    try:
        yield Exported(spans, metrics, logs)
    finally:
        telemetry.deactivate()
        root.removeHandler(handler)
        root.setLevel(previous_level)


def _request_id_recorder(ids: list[str]):
    return lambda response: ids.append(response.http_response.headers["apim-request-id"])


def test_a_full_scenario_is_traced_and_measured_without_personal_data(service, exported):
    secrets_used = {
        "person name": "Person-" + secrets.token_hex(6), "group name": "Group-" + secrets.token_hex(6),
        "group userData": "gud-" + secrets.token_hex(6), "person userData": "pud-" + secrets.token_hex(6),
        "face userData": "fud-" + secrets.token_hex(6), "admin key": service.admin_key,
        "recognizer key": service.recognizer_key, "template key": os.environ["FACE_TEMPLATE_KEY"],
    }
    admin = FaceAdministrationClient(service.url, AzureKeyCredential(service.admin_key))
    recognizer = FaceClient(service.url, AzureKeyCredential(service.recognizer_key))
    enrol, query = photos("obama")[:2], photos("obama")[-1]
    group = "tele-" + secrets.token_hex(4)
    lpg = admin.large_person_group

    lpg.create(group, name=secrets_used["group name"], user_data=secrets_used["group userData"],
               recognition_model="recognition_04")
    person = lpg.create_person(group, name=secrets_used["person name"],
                               user_data=secrets_used["person userData"]).person_id
    for photo in enrol:
        lpg.add_face(group, person, photo.read_bytes(), user_data=secrets_used["face userData"])
    lpg.begin_train(group, polling_interval=0.2).result()
    request_ids: list[str] = []
    faces = recognizer.detect(query.read_bytes(), detection_model="detection_03", recognition_model="recognition_04",
                              return_face_id=True, raw_response_hook=_request_id_recorder(request_ids))
    result = recognizer.identify_from_large_person_group(face_ids=[faces[0].face_id], large_person_group_id=group,
                                                         raw_response_hook=_request_id_recorder(request_ids))
    assert result[0].candidates[0].person_id == person
    template = FaceIdStore().get(faces[0].face_id).vector.tobytes()
    lpg.delete(group)
    with pytest.raises(ResourceNotFoundError):
        lpg.get(group)
    service.invoke("sweep")

    # One span per operation, with what operators need to follow a call.
    by_request = {a.get(telemetry.REQUEST_ID): a for a in exported.span_attributes()}
    detect_span, identify_span = by_request[request_ids[0]], by_request[request_ids[1]]
    assert detect_span[telemetry.OPERATION] == "detect"
    assert identify_span[telemetry.OPERATION] == "identify"
    for span in (detect_span, identify_span):
        assert span[telemetry.API_VERSION] == "v1.2-preview.1"
        assert span[telemetry.ROLE] == "recognizer"
        assert span[telemetry.STATUS] == 200
    statuses = sorted(a[telemetry.STATUS] for a in exported.span_attributes() if a.get(telemetry.OPERATION))
    assert 404 in statuses and 202 in statuses  # the get after delete; the train request
    assert all(a.get(telemetry.ROLE) == "admin" for a in exported.span_attributes()
               if a.get(telemetry.OPERATION, "").startswith("create"))

    points = exported.metric_points()
    assert sum(p.sum for p in points["face.detect.faces"]) >= 1
    assert sum(p.count for p in points["face.identify.duration"]) == 1
    assert sum(p.count for p in points["face.index.load.duration"]) >= 1
    assert {p.attributes["face.sweep_kind"] for p in points["face.sweep.removed"]} >= {"faceIds"}

    # Nothing personal or secret, in any form.
    text = exported.everything_as_text()
    assert exported.logs.get_finished_logs(), "the log exporter received nothing: the scan would be empty"
    for label, value in secrets_used.items():
        assert value not in text, f"telemetry carries the {label}"
    for photo in (*enrol, query):
        chunk = photo.read_bytes()[2048:2096]
        for encoded in (base64.b64encode(chunk).decode(), chunk.hex()):
            assert encoded not in text, f"telemetry carries bytes of {photo.name}"
    for encoded in (base64.b64encode(template[:48]).decode(), template[:48].hex()):
        assert encoded not in text, "telemetry carries a template"
    for value in exported.every_attribute_value():
        assert not (isinstance(value, (list, tuple)) and len(value) >= 16), f"a vector-like attribute: {value!r}"


def test_with_telemetry_off_opentelemetry_is_never_imported():
    env = {k: v for k, v in os.environ.items() if k != telemetry.CONNECTION_SETTING}
    probe = ("import sys, function_app; "
             "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry', 'azure.monitor'))))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "[]"

"""Conformance with Azure's OpenAPI documents (reference/openapi/face-v1.2.json, face-v1.0.json).

For each version, schemathesis generates requests for the operations this area serves
(detect from bytes and from a URL, verify, find-similar, group): valid ones and deliberately
invalid ones. Every answer must be a non-5xx response (a 4xx for the invalid ones) whose
status, content type, headers and body match the document. Generated image URLs can only
fail (tests resolve loopback names only and private URLs are refused). Generated ids are
unknown, so the 200 shapes are checked with real faceIds in a second test, against the
same documents (which also pins each version's attribute casing).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from svc_support import load_openapi, person_photos

ROUTES = ("/detect", "/verify", "/findsimilars", "/group")
EXAMPLES = {GenerationMode.POSITIVE: 150, GenerationMode.NEGATIVE: 60}  # per operation
MIN_REQUESTS = 1000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# Invalid requests (negative mode) must also be refused with a 4xx, not served.
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]


@dataclass(frozen=True)
class Document:
    version: str
    file: str
    binary_detect: str  # the octet-stream overload of /detect in x-ms-paths
    levels: tuple[str, ...]  # how this version spells blur levels


DOCUMENTS = [Document("v1.2", "face-v1.2.json", "/detect?_overload=detect", ("low", "medium", "high")),
             Document("v1.0", "face-v1.0.json", "/detect?overload=stream", ("Low", "Medium", "High"))]


def _operations(document: Document, binary_detect: bool) -> dict:
    """The served operations; /detect is either the JSON (URL) or the octet-stream overload."""
    spec = load_openapi(document.file)
    paths = {path: item for path, item in spec["paths"].items() if path in ROUTES}
    if binary_detect:
        paths = {"/detect": spec["x-ms-paths"][document.binary_detect]}
    spec["paths"] = paths
    spec.pop("x-ms-paths")
    schema = schemathesis.openapi.from_dict(spec)
    return {op.path: op for op in (result.ok() for result in schema.get_all_operations())}


def _headers(service) -> dict:
    return {"Ocp-Apim-Subscription-Key": service.recognizer_key}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.version)
def test_generated_requests_conform_to_the_document(service, document):
    base_url = f"{service.url}/face/{document.version}"
    statuses: Counter = Counter()
    operations = [*_operations(document, binary_detect=False).values(),
                  _operations(document, binary_detect=True)["/detect"]]
    assert sorted(op.path for op in operations) == sorted([*ROUTES, "/detect"])

    for operation in operations:
        for mode, examples in EXAMPLES.items():

            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def exercise(case):
                response = case.call(base_url=base_url, headers=_headers(service), timeout=60)
                statuses[(operation.path, response.status_code)] += 1
                case.validate_response(response, checks=NEGATIVE_CHECKS if mode is GenerationMode.NEGATIVE else CHECKS)

            exercise()

    assert sum(statuses.values()) >= MIN_REQUESTS, statuses
    assert not [key for key in statuses if key[1] >= 500], statuses


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.version)
def test_successful_responses_match_the_document(service, privacy_probe, document):
    base_url = f"{service.url}/face/{document.version}"
    json_ops, binary_detect = _operations(document, False), _operations(document, True)["/detect"]
    query = {"detectionModel": "detection_01", "recognitionModel": "recognition_04", "returnFaceId": "true",
             "returnFaceLandmarks": "true", "returnRecognitionModel": "true",
             "returnFaceAttributes": "headPose,blur,exposure,noise,qualityForRecognition"}

    def call(case):
        response = case.call(base_url=base_url, headers=_headers(service), timeout=60)
        assert response.status_code == 200, response.text
        case.validate_response(response, checks=CHECKS)
        return response.json()

    face_ids = []
    for path in person_photos("deepface_person07")[:2] + person_photos("deepface_person08")[:1]:
        image = privacy_probe.saw_image(path.read_bytes(), "detection_01", "recognition_04")
        faces = call(binary_detect.Case(query=query, body=image, media_type="application/octet-stream"))
        assert faces[0]["faceAttributes"]["blur"]["blurLevel"] in document.levels
        assert faces[0]["faceAttributes"]["qualityForRecognition"] in document.levels
        face_ids.append(faces[0]["faceId"])
    assert call(json_ops["/verify"].Case(body={"faceId1": face_ids[0], "faceId2": face_ids[1]}))["isIdentical"]
    similar = call(json_ops["/findsimilars"].Case(body={"faceId": face_ids[0], "faceIds": face_ids[1:],
                                                        "mode": "matchFace"}))
    assert [s["faceId"] for s in similar][0] == face_ids[1]
    grouping = call(json_ops["/group"].Case(body={"faceIds": face_ids}))
    assert grouping == {"groups": [face_ids[:2]], "messyGroup": [face_ids[2]]}

"""hypothesis-generated requests to every route the app registers (derived from the app, so a
new route is fuzzed without a change here): JSON bodies of wrong types, huge strings, deep
nesting, huge arrays, duplicate keys and invalid UTF-8; random query strings, path values and
content types. Every answer is < 500 and every 4xx carries Azure's error envelope. Writes
land only when answered 2xx: containers exist exactly when their last PUT/DELETE said so,
and the storage invariants of audit.gallery_violations hold afterwards.

RELIABILITY_FUZZ_EXAMPLES=N sets the examples per route (default 12).
"""
from __future__ import annotations

import json
import os
import re
import uuid
from urllib.parse import quote, urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import gallery_violations
from shared.api.auth import Role
from shared.api.handler import required_role
from shared.galleries import repository
from shared.galleries.kinds import KINDS

EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES") or 12)
FIELDS = ["name", "userData", "recognitionModel", "faceId", "faceId1", "faceId2", "faceIds", "personId",
          "personGroupId", "largePersonGroupId", "faceListId", "largeFaceListId", "maxNumOfCandidatesReturned",
          "confidenceThreshold", "mode", "url", "maxNumOfCandidates"]
PARAMS = ["returnFaceId", "returnFaceLandmarks", "returnFaceAttributes", "recognitionModel", "detectionModel",
          "faceIdTimeToLive", "returnRecognitionModel", "start", "top", "targetFace", "userData"]
SENT = {"requests": 0}

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2 ** 70), max_value=2 ** 70)
           | st.floats(allow_nan=False) | st.text(max_size=40) | st.text(min_size=20_000, max_size=40_000)
           | st.uuids().map(str) | st.sampled_from(["recognition_04", "detection_03", "", "*"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), inner, max_size=5),
                           max_leaves=20)


@st.composite
def bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["object", "value", "deep", "huge array", "duplicate keys", "bytes", "empty"]))
    if kind == "object":
        return json.dumps(draw(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))).encode()
    if kind == "value":
        return json.dumps(draw(json_values)).encode()
    if kind == "deep":
        depth = draw(st.integers(min_value=500, max_value=200_000))
        return b'{"name":' + b"[" * depth + b"]" * depth + b"}"
    if kind == "huge array":
        return json.dumps({draw(st.sampled_from(FIELDS)): [str(uuid.uuid4())] * draw(st.integers(0, 120_000))}).encode()
    if kind == "duplicate keys":
        field = draw(st.sampled_from(FIELDS))
        return f'{{"{field}": "a", "{field}": {json.dumps(draw(json_values))}}}'.encode()
    if kind == "bytes":
        return draw(st.binary(max_size=2000)) + b"\xff\xfe\xc3("  # never valid UTF-8
    return b""


queries = st.dictionaries(st.sampled_from(PARAMS) | st.text(max_size=12), st.text(max_size=60), max_size=5)
content_types = st.sampled_from(["application/json", "application/octet-stream", "text/plain", None,
                                 "application/json; charset=utf-16", "multipart/form-data; boundary=x"])


def _routes(service) -> list[tuple[str, str, str]]:
    """(name, method, route template) of every Face route the app registered."""
    return sorted((function.name, method, function.trigger["route"])
                  for function in service.host.functions.values()
                  if function.kind == "httpTrigger" and required_role(function.user_function) in (Role.ADMIN, Role.RECOGNIZER)
                  for method in sorted(function.methods or ()))


@pytest.fixture(scope="module")
def known_ids(app) -> dict[str, list[str]]:
    """Ids the fuzzer may put in paths beside random ones: a container of each kind, a person
    and a face, so bodies reach the validation behind the lookups."""
    ids = {"containerId": [], "personId": [], "persistedFaceId": []}
    for kind in KINDS.values():
        container_id = f"fuzz-{kind.key}"
        requests.put(f"{app.url}/face/v1.2/{kind.route}/{container_id}", json={"name": "fuzz"}, headers=app.headers(),
                     timeout=30)
        ids["containerId"].append(container_id)
    person = requests.post(f"{app.url}/face/v1.2/persongroups/fuzz-persongroup/persons", json={"name": "p"},
                           headers=app.headers(), timeout=30).json()["personId"]
    ids["personId"].append(person)
    ids["persistedFaceId"].append(str(uuid.uuid4()))
    return ids


def _path(template: str, draw, known: dict[str, list[str]]) -> tuple[str, dict[str, str]]:
    values = {}

    def fill(match: re.Match) -> str:
        name = match.group(1).lstrip("*")
        if name == "apiVersion":
            value = draw(st.sampled_from(["v1.0", "v1.1-preview.1", "v1.2-preview.1", "v1.2", "v9", "V1.2"]))
        else:
            value = draw(st.sampled_from(known.get(name) or ["x"]) | st.text(max_size=80) | st.uuids().map(str))
        values[name] = value
        return quote(value, safe="") or "x"

    return re.sub(r"\{([^}?]+)\??\}", fill, template), values


def _check(response: requests.Response, method: str, where: str) -> None:
    assert response.status_code < 500, (where, response.status_code, response.text[:300])
    if response.status_code >= 400 and method != "HEAD":
        error = response.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str), where
        assert response.headers["x-ms-error-code"] == error["code"], where


def test_fuzzed_requests_to_every_route_get_4xx_envelopes_and_write_only_on_2xx(app_storage, service, known_ids):
    app, containers_said = app_storage, {}
    routes = _routes(service)
    assert len(routes) > 30

    for name, method, template in routes:
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def fuzz(data) -> None:
            path, values = _path(template, data.draw, known_ids)
            query = data.draw(queries)
            content_type = data.draw(content_types)
            body = data.draw(bodies())
            response = app.request(method, path + (f"?{urlencode(query)}" if query else ""), body, content_type,
                                   timeout=120)
            SENT["requests"] += 1
            _check(response, method, f"{name} {method} {path}")
            container_id = values.get("containerId")
            if template.endswith("{containerId}") and method in ("PUT", "DELETE") and response.status_code < 300:
                containers_said[(template.split("/")[2], container_id)] = method == "PUT"

        fuzz()

    for (route, container_id), exists in containers_said.items():
        kind = next(kind for kind in KINDS.values() if kind.route == route)
        assert (repository.find_container(kind, container_id) is not None) == exists, (route, container_id)
    assert gallery_violations() == []
    print(f"\nfuzz: {SENT['requests']} requests over {len(routes)} routes, no 5xx")


@pytest.mark.parametrize("headers, statuses", [
    ({"X-Big": "a" * 60_000}, {401}),  # under the host's header limits: the app answers
    ({"Ocp-Apim-Subscription-Key": "k" * 60_000}, {401}),
    ({f"X-Many-{n}": "v" for n in range(90)}, {401}),
    ({"X-Too-Big": "a" * 70_000}, {431}),  # over them: the host refuses before the app
    ({f"X-Too-Many-{n}": "v" for n in range(120)}, {431}),
])
def test_oversized_headers(app, headers, statuses):
    response = requests.post(f"{app.url}/face/v1.2/detect", data=b"x", timeout=30,
                             headers={"Content-Type": "application/octet-stream", **headers})
    assert response.status_code in statuses, response.text[:200]
    if response.status_code == 401:
        assert response.json()["error"]["code"] == "401"


@pytest.mark.parametrize("path, content_type, size, status, code", [
    ("face/v1.2/detect", "application/octet-stream", 7 * 1024 * 1024, 400, "InvalidImageSize"),
    ("face/v1.2/detect", "application/json", 5 * 1024 * 1024, 413, "BadArgument"),
    ("face/v1.2/group", "application/json", 5 * 1024 * 1024, 413, "BadArgument"),
    ("face/v1.2/persongroups/fuzz-big", "application/json", 5 * 1024 * 1024, 413, "BadArgument"),
])
def test_oversized_bodies(app, path, content_type, size, status, code):
    body = b'{"name": "' + b"a" * size + b'"}'
    method = "PUT" if "persongroups" in path else "POST"
    response = requests.request(method, f"{app.url}/{path}", data=body, timeout=60,
                                headers=app.headers(content_type=content_type))
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert requests.get(f"{app.url}/face/v1.2/persongroups/fuzz-big", headers=app.headers(),
                        timeout=30).status_code == 404

"""Routing at the edge: versions, unknown routes, case of fixed segments, chunked bodies."""
from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
import requests

from svc_support import person_photos

NOT_FOUND = {"error": {"code": "404", "message": "Resource not found"}}


def _post(service, path: str, body: dict) -> requests.Response:
    return requests.post(f"{service.url}{path}", json=body,
                         headers={"Ocp-Apim-Subscription-Key": service.recognizer_key}, timeout=30)


@pytest.mark.parametrize("path", ["/face/v1.4-preview.1/group", "/face/v2.0/group", "/face/latest/group",
                                  "/face/v1.2/nothing", "/face/v1.2/group/extra", "/nothing", "/",
                                  "/face", "/face/v1.2"])
def test_unknown_versions_and_routes_are_404_envelopes(service, path):
    response = _post(service, path, {"faceIds": []})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert response.headers["x-ms-error-code"] == "404"


def test_wrong_method_is_404(service):
    response = requests.get(f"{service.url}/face/v1.2/detect", timeout=30)
    assert response.status_code == 404 and response.json() == NOT_FOUND


@pytest.mark.parametrize("version", ["v1.0", "v1.1-preview.1", "v1.2-preview.1", "v1.2", "V1.2"])
def test_every_version_serves_the_same_route(service, version):
    response = _post(service, f"/face/{version}/group", {"faceIds": []})
    assert response.status_code == 400  # routed and authorized; the body is what is wrong


@pytest.mark.parametrize("path", ["/FACE/v1.2/GROUP", "/Face/v1.2/Group", "/face/v1.2/group/"])
def test_fixed_segments_ignore_case(service, path):
    assert _post(service, path, {"faceIds": []}).status_code == 400


def test_chunked_request_body_without_content_length(service):
    url = urlsplit(service.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    image = person_photos("obama")[2].read_bytes()
    chunks = (image[i:i + 10000] for i in range(0, len(image), 10000))
    connection.request("POST", "/face/v1.2/detect?returnFaceId=false", body=chunks, encode_chunked=True,
                       headers={"Ocp-Apim-Subscription-Key": service.recognizer_key,
                                "Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked"})
    response = connection.getresponse()
    assert response.status == 200
    assert len(json.loads(response.read())) == 1
    connection.close()


def test_responses_carry_a_request_id(service):
    response = _post(service, "/face/v1.2/group", {"faceIds": []})
    assert len(response.headers["apim-request-id"]) == 36

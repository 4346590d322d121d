"""Gallery test fixtures: SDK clients on the shared devhost, isolated storage, a photo server."""
from __future__ import annotations

import uuid

import pytest
import requests
from azure.ai.vision.face import FaceAdministrationClient
from azure.cognitiveservices.vision.face import FaceClient as FaceClientV1
from azure.core.credentials import AzureKeyCredential
from msrest.authentication import CognitiveServicesCredentials


@pytest.fixture
def gallery_id() -> str:
    return "g-" + uuid.uuid4().hex[:12]


@pytest.fixture
def call(service):
    """Plain HTTP with the admin key: ``call("POST", "/largefacelists/x/train", version=...)``."""
    def send(method: str, path: str, version: str = "v1.2", json=None, data=None, content_type=None):
        headers = {"Ocp-Apim-Subscription-Key": service.admin_key}
        if content_type:
            headers["Content-Type"] = content_type
        return requests.request(method, f"{service.url}/face/{version}{path}", json=json, data=data,
                                headers=headers, timeout=60)

    send.admin_key = service.admin_key
    return send


@pytest.fixture(scope="session")
def old_client(service) -> FaceClientV1:
    return FaceClientV1(service.url, CognitiveServicesCredentials(service.admin_key))


@pytest.fixture(scope="session")
def admin_client(service) -> FaceAdministrationClient:
    return FaceAdministrationClient(service.url, AzureKeyCredential(service.admin_key))


@pytest.fixture(scope="session")
def detect_id(face_client):
    """faceId of an image's largest face, from the service's /detect."""

    def detect(image: bytes, recognition_model: str = "recognition_01") -> str:
        faces = face_client.detect(image, detection_model="detection_01", recognition_model=recognition_model,
                                   return_face_id=True)
        return faces[0].face_id

    return detect


@pytest.fixture
def isolated(monkeypatch):
    """A fresh storage prefix: empty counters, and a training queue no listener polls, so a
    test sees each training state and runs the worker itself with ``drain_training``."""
    monkeypatch.setenv("FACE_STORAGE_PREFIX", "i" + uuid.uuid4().hex[:8])

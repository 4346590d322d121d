"""Fixtures for the service tests: the official SDK clients per version and role."""
from __future__ import annotations

import pytest
from azure.ai.vision.face import FaceClient
from azure.cognitiveservices.vision.face import FaceClient as FaceClientV1
from azure.core.credentials import AzureKeyCredential
from msrest.authentication import CognitiveServicesCredentials


@pytest.fixture(scope="session")
def face_client_ga(service) -> FaceClient:
    return FaceClient(service.url, AzureKeyCredential(service.admin_key), api_version="v1.2")


@pytest.fixture(scope="session")
def recognizer_client(service) -> FaceClient:
    return FaceClient(service.url, AzureKeyCredential(service.recognizer_key))


@pytest.fixture(scope="session")
def face_client_v1(service) -> FaceClientV1:
    """azure-cognitiveservices-vision-face (v1.0; streams with chunked encoding)."""
    return FaceClientV1(service.url, CognitiveServicesCredentials(service.recognizer_key))

"""Gallery test helpers: SDK clients on the shared devhost, and the enrolment photos."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from azure.ai.vision.face import FaceAdministrationClient, FaceClient
from azure.cognitiveservices.vision.face import FaceClient as FaceClientV1
from azure.core.credentials import AzureKeyCredential
from msrest.authentication import CognitiveServicesCredentials

SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared")
PERSONS_DIR = SHARED_DIR / "data" / "faces" / "persons"


def photos(person: str) -> list[Path]:
    return sorted((PERSONS_DIR / person).glob("*.jpg"))


@pytest.fixture
def gallery_id() -> str:
    return "g-" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def old_client(service) -> FaceClientV1:
    return FaceClientV1(service.url, CognitiveServicesCredentials(service.admin_key))


@pytest.fixture(scope="session")
def admin_client(service) -> FaceAdministrationClient:
    return FaceAdministrationClient(service.url, AzureKeyCredential(service.admin_key))


@pytest.fixture(scope="session")
def face_client(service) -> FaceClient:
    return FaceClient(service.url, AzureKeyCredential(service.admin_key))


def query_face_id(image: bytes, recognition_model: str = "recognition_01") -> str:
    """A faceId for ``image``'s largest face, made the way /detect makes them (in-process)."""
    from shared.engine.engine import get_engine
    from shared.engine.types import DetectOptions
    from shared.storage.faceids import FaceIdStore

    faces = get_engine().detect(image, DetectOptions(recognition_models=(recognition_model,)))
    return FaceIdStore().put_all([faces[0].templates[recognition_model]], 600)[0]

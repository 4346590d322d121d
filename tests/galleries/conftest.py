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
MULTI_DIR = SHARED_DIR / "data" / "faces" / "multi"
NOFACE_DIR = SHARED_DIR / "data" / "faces" / "noface"


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


@pytest.fixture(scope="session")
def detect_id(face_client):
    """faceId of an image's largest face, from the service's /detect."""

    def detect(image: bytes, recognition_model: str = "recognition_01") -> str:
        faces = face_client.detect(image, detection_model="detection_01", recognition_model=recognition_model,
                                   return_face_id=True)
        return faces[0].face_id

    return detect


def error_code(exc_info) -> str:
    """error.code of an old-SDK APIErrorException or a new-SDK HttpResponseError."""
    from azure.cognitiveservices.vision.face.models import APIErrorException

    err = exc_info.value
    return err.error.error.code if isinstance(err, APIErrorException) else err.error.code


@pytest.fixture
def isolated(monkeypatch):
    """A fresh storage prefix: empty counters, and a training queue no listener polls, so a
    test sees each training state and runs the worker itself with ``drain_training``."""
    monkeypatch.setenv("FACE_STORAGE_PREFIX", "i" + uuid.uuid4().hex[:8])


def drain_training() -> int:
    """Run the training worker on every queued message (for tests using ``isolated``)."""
    import json

    from shared.galleries import training
    from shared.storage.naming import queue_name
    from shared.storage.queues import queue_client

    queue = queue_client(queue_name(training.QUEUE))
    handled = 0
    for message in queue.receive_messages(max_messages=32):
        training.run(json.loads(bytes(message.content).decode("utf-8")))
        queue.delete_message(message)
        handled += 1
    return handled


@pytest.fixture
def photo_server(monkeypatch):
    """Serves PERSONS_DIR over http on 127.0.0.1 (private URLs allowed for the test)."""
    import functools
    import http.server
    import threading

    monkeypatch.setenv("FACE_ALLOW_PRIVATE_URLS", "true")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(PERSONS_DIR)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()

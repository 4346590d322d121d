"""Fixtures for the service tests: photos, both official SDK clients, a local image server."""
from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.ai.vision.face import FaceClient
from azure.cognitiveservices.vision.face import FaceClient as FaceClientV1
from azure.core.credentials import AzureKeyCredential
from msrest.authentication import CognitiveServicesCredentials

from svc_support import PHOTOS


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


class ImageServer:
    """Serves the shared face photos over http on 127.0.0.1 and records the paths asked for."""

    def __init__(self, root: Path):
        self.requests: list[str] = []
        handler = functools.partial(_RecordingHandler, self.requests, directory=str(root))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def url_of(self, path: Path) -> str:
        return f"{self.url}/{path.relative_to(PHOTOS).as_posix()}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _RecordingHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, log: list[str], *args, **kwargs):
        self._log = log
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        self._log.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        pass


@pytest.fixture(scope="session")
def image_server() -> Iterator[ImageServer]:
    server = ImageServer(PHOTOS)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_urls_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the service fetch from 127.0.0.1 (what local development does) for one test."""
    monkeypatch.setenv("FACE_ALLOW_PRIVATE_URLS", "true")

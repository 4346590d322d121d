"""Session fixtures shared by every integration test area: a private Azurite and the app
served by the devhost, both on free ports, both stopped at the end; an admin SDK client.

    def test_x(service):       # service.url, .admin_key, .recognizer_key, .connection_string
        service.clock.advance(61)   # move the service's clock (in-process devhost)
        service.invoke("sweep")     # run a timer/queue function once

Settings are environment variables read at call time, and the devhost runs in this
process, so a test may also change a setting with pytest's ``monkeypatch.setenv``.
"""
from __future__ import annotations

import base64
import functools
import http.server
import os
import secrets
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from azure.ai.vision.face import FaceClient
from azure.core.credentials import AzureKeyCredential

from emulator import REPO_ROOT, Azurite, free_port

CLOCK_OFFSET = "FACE_CLOCK_OFFSET_SECONDS"


def shared_data_dir() -> Path:
    """Read-only team data (photos, models): ../shared next to the repo, or FACE_SHARED_DIR."""
    return Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared")


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private Azurite (own ports, own data folder); yields its connection string."""
    location = tmp_path_factory.mktemp("azurite")
    emulator = Azurite(location)
    try:
        emulator.start()
    except RuntimeError as err:
        pytest.fail(str(err))
    try:
        yield emulator.connection_string
    finally:
        emulator.stop()
        shutil.rmtree(location, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def unthrottled() -> Iterator[None]:
    """Per-credential rate limits off for the suite; tests/service/test_throttling.py sets
    them per test. (Every test shares one admin key, and the suite sends far more than 10/s.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACE_RATE_ADMIN_PER_SECOND", "0")
        patch.setenv("FACE_RATE_RECOGNIZER_PER_SECOND", "0")
        yield


class ServiceClock:
    """Moves the service's clock (FACE_CLOCK_OFFSET_SECONDS; FACE_ALLOW_TEST_CLOCK is on)."""

    def advance(self, seconds: float) -> None:
        offset = float(os.environ.get(CLOCK_OFFSET) or 0) + seconds
        os.environ[CLOCK_OFFSET] = str(offset)

    def reset(self) -> None:
        os.environ[CLOCK_OFFSET] = "0"


@dataclass
class Service:
    url: str
    admin_key: str
    recognizer_key: str
    connection_string: str
    storage_prefix: str
    clock: ServiceClock
    host: object  # devhost.DevHost
    app: object  # the FunctionApp

    def invoke(self, function_name: str, value: str | None = None) -> object:
        return self.host.invoke(function_name, value)


_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _loopback_only(resolve):
    """Name resolution that answers only for loopback, so nothing in this test process
    (above all the service's URL fetcher, fed generated URLs) can reach another address."""

    def guarded(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.lower() not in _LOOPBACK_NAMES:
            raise socket.gaierror(socket.EAI_NONAME, f"tests resolve loopback names only, not {name!r}")
        return resolve(host, *args, **kwargs)

    return guarded


@pytest.fixture(scope="session")
def postgres_server():
    """A private PostgreSQL with pgvector (shared.postgres.local: own data folder, free port),
    stopped and removed at the end."""
    from shared.postgres.local import LocalPostgres

    server = LocalPostgres().start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def service(azurite: str, request: pytest.FixtureRequest) -> Iterator[Service]:
    """The function app on the devhost, in this process, on a free port, backed by Azurite
    (and, when the suite runs with FACE_SEARCH_ENGINE=postgres, by a private PostgreSQL)."""
    settings = {
        "AzureWebJobsStorage": azurite,
        "FACE_STORAGE_PREFIX": "t" + secrets.token_hex(4),
        "FACE_TEMPLATE_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "FACE_LIVENESS_TOKEN_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "FACE_ADMIN_KEYS": "admin-" + secrets.token_hex(8),
        "FACE_RECOGNIZER_KEYS": "recognizer-" + secrets.token_hex(8),
        "FACE_TRUST_EASYAUTH": "false",
        "FACE_ALLOW_PRIVATE_URLS": "false",
        "FACE_ALLOW_TEST_CLOCK": "true",
        CLOCK_OFFSET: "0",
        "FACE_SWEEP_SCHEDULE": "0 0 0 1 1 *",  # tests invoke the sweep themselves
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.items():
            patch.setenv(name, value)
        if os.environ.get("FACE_SEARCH_ENGINE") == "postgres" and not os.environ.get("FACE_POSTGRES_URL"):
            patch.setenv("FACE_POSTGRES_URL", request.getfixturevalue("postgres_server").url)
        patch.setenv("FACE_MODEL_MIRRORS", os.environ.get("FACE_MODEL_MIRRORS") or str(shared_data_dir() / "models"))
        patch.syspath_prepend(str(REPO_ROOT))
        patch.setattr(socket, "getaddrinfo", _loopback_only(socket.getaddrinfo))
        from devhost import DevHost
        from function_app import app

        host = DevHost(app, port=free_port(), run_timers=False)
        host.start()
        try:
            yield Service(url=host.url, admin_key=settings["FACE_ADMIN_KEYS"],
                          recognizer_key=settings["FACE_RECOGNIZER_KEYS"], connection_string=azurite,
                          storage_prefix=settings["FACE_STORAGE_PREFIX"], clock=ServiceClock(),
                          host=host, app=app)
        finally:
            host.stop()


@pytest.fixture
def clock(service: Service) -> Iterator[ServiceClock]:
    """The service clock, put back to real time after the test."""
    yield service.clock
    service.clock.reset()


@pytest.fixture(scope="session")
def face_client(service: Service) -> FaceClient:
    """azure-ai-vision-face with its default api-version (v1.2-preview.1), admin key."""
    return FaceClient(service.url, AzureKeyCredential(service.admin_key))


class PrivacyProbe:
    """What must never appear in storage: the images tests sent and their raw embeddings.

    Tests record each image they send (with the detection and recognition model used); the
    privacy scan, which runs after every other test, recomputes the embeddings in-process
    and searches every stored table value, blob and queue message for them.
    """

    def __init__(self) -> None:
        self.images: dict[bytes, set[tuple[str, str]]] = {}
        self.stores: set[str] = set()

    def saw_image(self, image: bytes, detection_model: str = "detection_01",
                  recognition_model: str = "recognition_01") -> bytes:
        self.images.setdefault(image, set()).add((detection_model, recognition_model))
        return image

    def stored_in(self, *stores: str) -> None:
        """Stores a test filled: table base names ("dirfaces") or "<container>/<blob prefix>"
        ("snapshots/directory/"). The scan fails unless it found something in each."""
        self.stores.update(stores)


@pytest.fixture(scope="session")
def privacy_probe() -> PrivacyProbe:
    return PrivacyProbe()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "privacy_scan: runs after every other test (scans stored data)")
    config.addinivalue_line("markers", "after_area: runs after the other tests of its folder (checks what they stored)")
    config.addinivalue_line("markers", "embedded_engine: inspects the embedded search engine's own state "
                                       "(skipped when the suite runs with FACE_SEARCH_ENGINE=postgres)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Privacy scans go last so they see everything the rest of the suite stored; an
    ``after_area`` test goes after the rest of its folder."""
    folders = {folder: index for index, folder in enumerate(dict.fromkeys(item.path.parent for item in items))}
    items.sort(key=lambda item: (item.get_closest_marker("privacy_scan") is not None, folders[item.path.parent],
                                 item.get_closest_marker("after_area") is not None))
    if os.environ.get("FACE_SEARCH_ENGINE") == "postgres":
        skip = pytest.mark.skip(reason="inspects the embedded engine; this pass searches in PostgreSQL")
        for item in items:
            if item.get_closest_marker("embedded_engine"):
                item.add_marker(skip)


class ImageServer:
    """Serves the shared face photos over http on 127.0.0.1 and records the paths asked for."""

    def __init__(self, root: Path):
        self.root = root
        self.requests: list[str] = []
        handler = functools.partial(_RecordingHandler, self.requests, directory=str(root))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def url_of(self, path: Path) -> str:
        return f"{self.url}/{path.relative_to(self.root).as_posix()}"

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
    server = ImageServer(shared_data_dir() / "data" / "faces")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_urls_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the service fetch from 127.0.0.1 (what local development does) for one test."""
    monkeypatch.setenv("FACE_ALLOW_PRIVATE_URLS", "true")

"""Identity-based storage connections, for real: Azurite over HTTPS in its OAuth mode, and
the app's own credential code (azure-identity's ManagedIdentityCredential) fetching tokens
from an App Service style managed-identity endpoint served here on 127.0.0.1.

No account key is anywhere in the environment: only the Functions identity-based settings
(``AzureWebJobsStorage__blobServiceUri`` ... ``__credential``, ``__clientId``), so every
request the stores make must carry a bearer token Azurite accepts. The self-signed
certificate is trusted the usual way (REQUESTS_CA_BUNDLE / SSL_CERT_FILE).
"""
from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import secrets
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from emulator import Azurite
from shared.storage import naming
from shared.storage.blobs import BlobStore
from shared.storage.queues import WorkQueue
from shared.storage.tables import Table

STORAGE_AUDIENCE = "https://storage.azure.com"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost that is its own CA, and its private key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "azurite-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _access_token(audience: str) -> str:
    """A JWT shaped like an Entra ID storage token (Azurite's basic OAuth mode checks the
    audience, issuer and lifetime, not the signature)."""
    now = int(time.time())
    claims = {"aud": audience, "iss": f"https://sts.windows.net/{TENANT}/", "iat": now - 60,
              "nbf": now - 60, "exp": now + 3600, "tid": TENANT, "oid": str(uuid.uuid4())}
    header = {"alg": "RS256", "typ": "JWT"}
    return ".".join([_b64url(json.dumps(header).encode()), _b64url(json.dumps(claims).encode()),
                     _b64url(secrets.token_bytes(32))])


@dataclass
class IdentityEndpoint:
    """App Service's managed-identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER)."""

    header_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    audience: str = STORAGE_AUDIENCE  # what the issued tokens say; change it to issue bad tokens
    requests: list[dict] = field(default_factory=list)

    def serve(self) -> ThreadingHTTPServer:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                endpoint.requests.append({"query": query, "header": self.headers.get("X-IDENTITY-HEADER")})
                if self.headers.get("X-IDENTITY-HEADER") != endpoint.header_secret:
                    self._reply(401, {"error": "bad identity header"})
                    return
                self._reply(200, {"access_token": _access_token(endpoint.audience), "token_type": "Bearer",
                                  "expires_on": str(int(time.time()) + 3600), "resource": query.get("resource"),
                                  "client_id": query.get("client_id")})

            def _reply(self, status: int, body: dict) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
                pass

        return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@dataclass
class OAuthStorage:
    ports: tuple[int, int, int]
    identity: IdentityEndpoint
    token_url: str
    ca_file: Path

    def service_uri(self, service: str) -> str:
        port = self.ports[("blob", "queue", "table").index(service)]
        return f"https://127.0.0.1:{port}/devstoreaccount1"


@pytest.fixture(scope="module")
def oauth_storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OAuthStorage]:
    folder = tmp_path_factory.mktemp("azurite-oauth")
    cert, key = _self_signed_certificate(folder)
    server = Azurite(folder / "data", "--oauth", "basic", "--cert", str(cert), "--key", str(key))
    server.start()
    identity = IdentityEndpoint()
    token_server = identity.serve()
    threading.Thread(target=token_server.serve_forever, daemon=True).start()
    token_url = "http://127.0.0.1:%d/msi/token" % token_server.server_address[1]
    try:
        yield OAuthStorage(tuple(server.ports), identity, token_url, cert)
    finally:
        token_server.shutdown()
        token_server.server_close()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def identity_settings(oauth_storage: OAuthStorage, monkeypatch: pytest.MonkeyPatch) -> str:
    """The Functions identity-based settings and no connection string; returns the client id
    (fresh per test, so each test gets its own credential and token cache)."""
    client_id = str(uuid.uuid4())
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    for service in ("blob", "queue", "table"):
        monkeypatch.setenv(f"AzureWebJobsStorage__{service}ServiceUri", oauth_storage.service_uri(service))
    monkeypatch.setenv("AzureWebJobsStorage__credential", "managedidentity")
    monkeypatch.setenv("AzureWebJobsStorage__clientId", client_id)
    monkeypatch.setenv("FACE_STORAGE_PREFIX", "id" + secrets.token_hex(4))
    monkeypatch.setenv("IDENTITY_ENDPOINT", oauth_storage.token_url)
    monkeypatch.setenv("IDENTITY_HEADER", oauth_storage.identity.header_secret)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(oauth_storage.ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(oauth_storage.ca_file))
    oauth_storage.identity.requests.clear()
    return client_id


def test_stores_reach_storage_with_managed_identity_tokens(oauth_storage, identity_settings):
    table = Table("idprobe")
    table.insert({"PartitionKey": "p", "RowKey": "r", "Value": 7})
    assert table.get("p", "r")["Value"] == 7
    blobs = BlobStore("idprobe")
    blobs.put("probe", b"sealed bytes")
    target = _Buffer()
    assert blobs.get_into("probe", target) and target.data == b"sealed bytes"
    WorkQueue("idprobe").send({"job": 1})

    asked = oauth_storage.identity.requests
    assert asked, "no token was requested: the stores did not use the managed identity"
    assert all(r["header"] == oauth_storage.identity.header_secret for r in asked)
    assert {r["query"].get("client_id") for r in asked} == {identity_settings}
    assert {r["query"].get("resource") for r in asked} == {STORAGE_AUDIENCE}
    assert len(asked) == 1, "one credential (one token) serves blob, queue and table alike"


def test_devhost_queue_listener_uses_the_identity_connection(oauth_storage, identity_settings):
    from devhost.functions import HostedFunction
    from devhost.queues import QueueListener

    received = []
    queue = WorkQueue("idjobs")
    trigger = {"type": "queueTrigger", "name": "msg", "queueName": queue.name, "connection": "AzureWebJobsStorage"}
    stop = threading.Event()
    listener = QueueListener(HostedFunction("probe", trigger, lambda msg: received.append(msg.get_json())), stop)
    listener.start()  # creates the queue and its poison queue, then polls in the background
    try:
        queue.send({"job": "identity"})
        deadline = time.monotonic() + 20
        while not received and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        listener.join(timeout=10)
    assert received == [{"job": "identity"}]
    assert oauth_storage.identity.requests


def test_azurite_refuses_a_token_for_another_audience(oauth_storage, identity_settings):
    """The check above can fail: Azurite really validates what the credential brings."""
    oauth_storage.identity.audience = "https://vault.azure.net"
    try:
        with pytest.raises((ClientAuthenticationError, HttpResponseError)) as refused:
            Table("idrefused").insert({"PartitionKey": "p", "RowKey": "r"})
    finally:
        oauth_storage.identity.audience = STORAGE_AUDIENCE
    assert refused.value.status_code in (401, 403)


def test_identity_settings_without_endpoints_name_what_is_missing(monkeypatch):
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    monkeypatch.delenv("AzureWebJobsStorage__accountName", raising=False)
    for service in ("queue", "table"):
        monkeypatch.delenv(f"AzureWebJobsStorage__{service}ServiceUri", raising=False)
    monkeypatch.setenv("AzureWebJobsStorage__blobServiceUri", "https://acct.blob.core.windows.net")
    with pytest.raises(RuntimeError, match="AzureWebJobsStorage__queueServiceUri, AzureWebJobsStorage__tableServiceUri"):
        naming.storage_connection()


def test_account_name_gives_public_cloud_endpoints_and_explicit_uris_win(monkeypatch):
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    monkeypatch.setenv("AzureWebJobsStorage__accountName", "faceprod")
    monkeypatch.setenv("AzureWebJobsStorage__tableServiceUri", "https://faceprod.table.example.net/")
    monkeypatch.setenv("AzureWebJobsStorage__credential", "ManagedIdentity")
    monkeypatch.setenv("AzureWebJobsStorage__clientId", "00000000-0000-0000-0000-000000000001")
    for service in ("blob", "queue"):
        monkeypatch.delenv(f"AzureWebJobsStorage__{service}ServiceUri", raising=False)
    conn = naming.storage_connection()
    assert conn.endpoint("blob") == "https://faceprod.blob.core.windows.net"
    assert conn.endpoint("queue") == "https://faceprod.queue.core.windows.net"
    assert conn.endpoint("table") == "https://faceprod.table.example.net"
    assert (conn.credential, conn.client_id) == (naming.MANAGED_IDENTITY, "00000000-0000-0000-0000-000000000001")


def test_a_connection_string_wins_over_identity_settings(monkeypatch):
    monkeypatch.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    monkeypatch.setenv("AzureWebJobsStorage__accountName", "faceprod")
    assert naming.storage_connection() == naming.StorageConnection(connection_string="UseDevelopmentStorage=true")


class _Buffer:
    def __init__(self) -> None:
        self.data = b""

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        return len(chunk)

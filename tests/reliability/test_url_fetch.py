"""Detect from a hostile URL: redirects lead only where the first address could lead, at most
MAX_REDIRECTS times; slow and endless servers are cut off by the time and size limits.

Only loopback is reachable here, so 127.0.0.2 stands in for a public server: the guard is
told that this one address is public (``public_stand_in``) and judges every other address
as it does in production, with FACE_ALLOW_PRIVATE_URLS off.
"""
from __future__ import annotations

import http.server
import socket
import threading
import time

import pytest
import requests

from reliability_support import person_photo
from shared.api import urlfetch
from shared.engine.imaging import MAX_BYTES

STAND_IN = "127.0.0.2"
TIMEOUT_SECONDS = 2.0


class _Origin(http.server.BaseHTTPRequestHandler):
    """Serves /image, redirects from /to?url, and the slow and endless answers."""

    protocol_version = "HTTP/1.1"
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(f"{self.server.server_address[0]}{self.path}")
        if self.path == "/image":
            return self._send(200, {"Content-Type": "image/jpeg"}, person_photo())
        if self.path.startswith("/to?"):
            return self._send(302, {"Location": self.path[len("/to?"):]}, b"")
        if self.path.startswith("/hops/"):
            left = int(self.path.rsplit("/", 1)[1])
            return self._send(302, {"Location": f"/hops/{left - 1}" if left else "/image"}, b"")
        if self.path == "/slow-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            return self._trickle(b"X-Slow: " + b"a" * 100)
        if self.path == "/slow-body":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            return self._trickle(b"\xff" * 1000)
        if self.path == "/endless":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"\x00" * 65536
            try:
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                return
        self._send(404, {}, b"")

    def _send(self, status: int, headers: dict, body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self, data: bytes) -> None:
        """One byte every 0.2 s: each wait is short, the whole answer takes minutes."""
        try:
            for byte in data:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        pass


@pytest.fixture(scope="module")
def origins():
    """The stand-in public origin on 127.0.0.2 and a private one on 127.0.0.1 (same port)."""
    public, private = _same_port_pair()
    port = public.server_address[1]
    for server in (public, private):
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://{STAND_IN}:{port}", port
    for server in (public, private):
        server.shutdown()
        server.server_close()


def _same_port_pair(attempts: int = 20):
    """Servers on 127.0.0.2 and 127.0.0.1 sharing a free port: the port the first one gets may
    be taken on 127.0.0.1 (another test's client socket), so another port is tried then."""
    for _ in range(attempts):
        public = http.server.ThreadingHTTPServer((STAND_IN, 0), _Origin)
        try:
            return public, http.server.ThreadingHTTPServer(("127.0.0.1", public.server_address[1]), _Origin)
        except OSError:
            public.server_close()
    raise RuntimeError("no port free on both loopback addresses")


def _loopback_resolver(resolve):
    """Numeric loopback addresses and ``rebind.example`` (a public-looking name that answers
    127.0.0.1) resolve without DNS; everything else as the session allows (loopback only)."""
    def resolver(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        address = "127.0.0.1" if name == "rebind.example" else name
        if address.startswith("127.") and address.replace(".", "").isdigit():
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return resolve(host, port, *args, **kwargs)

    return resolver


@pytest.fixture
def public_stand_in(monkeypatch):
    judge = urlfetch.address_allowed
    monkeypatch.setattr(urlfetch, "address_allowed", lambda address: address == STAND_IN or judge(address))
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_resolver(socket.getaddrinfo))
    monkeypatch.setenv("FACE_ALLOW_PRIVATE_URLS", "false")
    monkeypatch.setenv("FACE_URL_TIMEOUT_SECONDS", str(TIMEOUT_SECONDS))
    _Origin.hits.clear()


def _detect(service, url: str) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.post(f"{service.url}/face/v1.2/detect?returnFaceId=false", json={"url": url},
                             headers={"Ocp-Apim-Subscription-Key": service.recognizer_key}, timeout=60)
    return response, time.monotonic() - started


def test_the_stand_in_is_reachable_and_a_redirect_within_it_is_followed(service, origins, public_stand_in):
    origin, _ = origins
    response, _ = _detect(service, f"{origin}/to?/image")
    assert response.status_code == 200 and len(response.json()) == 1
    assert _Origin.hits == [f"{STAND_IN}/to?/image", f"{STAND_IN}/image"]


# Loopback targets only: if the guard failed, the fetch would reach them and nothing else.
# (That 10/8, 169.254/16 and the rest are refused is unit-tested on address_allowed.)
@pytest.mark.parametrize("target", [
    "http://127.0.0.1:{port}/image", "http://localhost:{port}/image", "http://[::1]:{port}/image",
    "http://rebind.example:{port}/image", "http://127.0.0.3:{port}/image", "http://0.0.0.0:{port}/image",
    "file:///etc/passwd", "ftp://{stand_in}/image", "gopher://{stand_in}:{port}/",
])
def test_a_redirect_off_the_public_internet_is_refused_before_connecting(service, origins, public_stand_in, target):
    origin, port = origins
    response, _ = _detect(service, f"{origin}/to?{target.format(port=port, stand_in=STAND_IN)}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidURL"
    assert len(_Origin.hits) == 1 and _Origin.hits[0].startswith(f"{STAND_IN}/to?")  # nothing else reached


def test_redirects_are_followed_at_most_max_redirects_times(service, origins, public_stand_in):
    origin, _ = origins
    hops = urlfetch.MAX_REDIRECTS - 1  # /hops/n redirects n + 1 times before /image
    assert _detect(service, f"{origin}/hops/{hops}")[0].status_code == 200
    response, _ = _detect(service, f"{origin}/hops/{hops + 1}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidURL"
    assert not any(hit.endswith("/image") for hit in _Origin.hits[urlfetch.MAX_REDIRECTS + 2:])


@pytest.mark.parametrize("path", ["/slow-headers", "/slow-body"])
def test_a_trickling_server_is_cut_off_at_the_time_limit(service, origins, public_stand_in, path):
    origin, _ = origins
    response, elapsed = _detect(service, f"{origin}{path}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidURL"
    assert "timed out" in response.json()["error"]["message"]
    assert TIMEOUT_SECONDS - 0.5 < elapsed < TIMEOUT_SECONDS + 3


def test_an_endless_body_is_cut_off_at_the_size_limit(service, origins, public_stand_in):
    origin, _ = origins
    response, elapsed = _detect(service, f"{origin}/endless")
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidImageSize"
    assert elapsed < TIMEOUT_SECONDS + 3
    assert MAX_BYTES == 6 * 1024 * 1024

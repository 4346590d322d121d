"""The image URL fetcher: only http(s), never our own network unless allowed, 6 MB cap."""
from __future__ import annotations

import http.server
import socket
import threading

import pytest
import requests

from shared.api.urlfetch import address_allowed
from svc_support import person_photos

PHOTO = person_photos("obama")[0].read_bytes()


class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {
        "/image": (200, {"Content-Type": "image/jpeg"}, PHOTO),
        "/redirect": (302, {"Location": "/image"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/big": (200, {}, b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024)),
        "/missing": (404, {}, b"nope"),
    }
    hits: list[str] = []
    hosts: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.hosts.append(self.headers.get("Host", ""))
        status, headers, body = self.routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if self.path == "/big":  # no Content-Length: the cap must hold while streaming
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        pass


@pytest.fixture(scope="module")
def origin():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def _detect_url(service, url: str) -> requests.Response:
    return requests.post(f"{service.url}/face/v1.2/detect?returnFaceId=false", json={"url": url},
                         headers={"Ocp-Apim-Subscription-Key": service.recognizer_key}, timeout=60)


def test_loopback_is_refused_without_any_request_when_private_urls_are_off(service, origin):
    _Handler.hits.clear()
    for url in (f"{origin}/image", origin.replace("127.0.0.1", "localhost") + "/image"):
        response = _detect_url(service, url)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "InvalidURL"
    assert _Handler.hits == []


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fd00::1",
                                     "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::"])
def test_non_global_addresses_are_refused(address):
    assert not address_allowed(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "20.190.160.1", "2001:4860:4860::8888"])
def test_global_addresses_are_allowed(address):
    assert address_allowed(address)


def test_private_setting_allows_loopback_but_never_unspecified_or_multicast(monkeypatch):
    monkeypatch.setenv("FACE_ALLOW_PRIVATE_URLS", "true")
    assert address_allowed("127.0.0.1") and address_allowed("10.0.0.1")
    assert not address_allowed("0.0.0.0") and not address_allowed("224.0.0.1")


def test_non_ascii_paths_are_percent_encoded(service, origin, private_urls_allowed):
    _Handler.hits.clear()
    response = _detect_url(service, f"{origin}/bild ü.jpg")
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidURL"
    assert _Handler.hits == ["/bild%20%C3%BC.jpg"]


def test_download_follows_redirects(service, origin, private_urls_allowed):
    response = _detect_url(service, f"{origin}/redirect")
    assert response.status_code == 200 and len(response.json()) == 1


@pytest.mark.parametrize("path, code", [
    ("/loop", "InvalidURL"), ("/missing", "InvalidURL"), ("/big", "InvalidImageSize")])
def test_download_failures(service, origin, private_urls_allowed, path, code):
    response = _detect_url(service, f"{origin}{path}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/a.jpg", "gopher://x", "http://",
                                 "not a url", "http://[::1", "http://no-such-host.invalid/a.jpg",
                                 "http://a..b/x.jpg", "http://" + "x" * 70 + ".com/a.jpg", "http://bücher.example/a.jpg"])
def test_malformed_or_unsupported_urls(service, private_urls_allowed, url):
    response = _detect_url(service, url)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidURL"


def _fake_resolution(monkeypatch, name: str, answers: list[str]) -> list[str]:
    """Resolve ``name`` to ``answers`` without DNS (other names as before); returns how
    many times ``name`` was looked up, as a list."""
    asked: list[str] = []
    original = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host != name:
            return original(host, port, *args, **kwargs)
        asked.append(host)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return asked


def test_the_checked_address_is_the_one_connected_to_with_the_name_kept(service, origin, monkeypatch,
                                                                        private_urls_allowed):
    port = origin.rsplit(":", 1)[1]
    asked = _fake_resolution(monkeypatch, "images.example", ["127.0.0.1"])
    _Handler.hits.clear()
    _Handler.hosts.clear()
    response = _detect_url(service, f"http://images.example:{port}/image")
    assert response.status_code == 200 and len(response.json()) == 1
    assert asked == ["images.example"]  # one resolution: no second lookup to rebind
    assert _Handler.hosts == [f"images.example:{port}"]


def test_a_mixed_public_and_private_answer_is_refused_before_connecting(service, monkeypatch):
    # Loopback first: even a broken guard would connect there, never to the public address.
    asked = _fake_resolution(monkeypatch, "mixed.example", ["127.0.0.1", "8.8.8.8"])
    response = _detect_url(service, "http://mixed.example/a.jpg")
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidURL"
    assert asked == ["mixed.example"]

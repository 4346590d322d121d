"""Where a request comes from (shared.api.client_address): the socket peer the host attaches,
X-Forwarded-For only through trusted proxies, Azure's front end when the host names no peer."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from shared.api.client_address import client_address, parse_address, parse_network

FRONT_END = "AppServiceFrontEnd"


def _address(monkeypatch, trusted: str, peer: str | None, forwarded: str | None) -> str | None:
    monkeypatch.setenv("FACE_TRUSTED_PROXIES", trusted)
    request = SimpleNamespace(socket_peer=peer) if peer is not None else SimpleNamespace()
    headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
    found = client_address(request, headers)
    return None if found is None else str(found)


@pytest.mark.parametrize("trusted, peer, forwarded, expected", [
    ("", "198.51.100.4", "203.0.113.7", "198.51.100.4"),  # untrusted peer: its header is ignored
    ("", None, "203.0.113.7", None),  # no peer, no trusted front end: unknown
    (FRONT_END, "198.51.100.4", "203.0.113.7", "198.51.100.4"),  # a peer is not the front end
    (FRONT_END, None, "203.0.113.7:50312", "203.0.113.7"),  # Azure: the front end's last hop
    (FRONT_END, None, "10.1.1.1, 203.0.113.7", "203.0.113.7"),  # a client's own entries stay unused
    (FRONT_END, None, None, None),
    (f"{FRONT_END},10.0.0.0/8", None, "203.0.113.7, 10.2.3.4", "203.0.113.7"),  # through a trusted proxy
    ("10.0.0.0/8", "10.0.0.5", "203.0.113.7, 10.2.3.4", "203.0.113.7"),
    ("10.0.0.0/8", "10.0.0.5", "[2001:db8::1]:443", "2001:db8::1"),
    ("10.0.0.0/8", "10.0.0.5", "not-an-address", None),  # a trusted proxy forwarded garbage
    ("10.0.0.0/8", "10.0.0.5", None, "10.0.0.5"),
    ("", "::ffff:127.0.0.1", None, "127.0.0.1"),
])
def test_client_address(monkeypatch, trusted, peer, forwarded, expected):
    assert _address(monkeypatch, trusted, peer, forwarded) == expected


def test_addresses_and_blocks_parse_as_written():
    assert str(parse_address("[::1]:8080")) == "::1" and parse_address("example.com") is None
    assert str(parse_network("203.0.113.0/24")) == "203.0.113.0/24" and parse_network("203.0.113.1/24") is None
    assert str(parse_network("::ffff:10.0.0.0/104")) == "10.0.0.0/8"

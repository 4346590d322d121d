"""Downloading a caller's image URL without letting the caller reach our network.

Only http(s). The host name is resolved once, every resolved address is checked, and the
connection goes to the checked address (Host header and TLS SNI/certificate still name the
host), so DNS rebinding between check and connect cannot redirect us. Private, loopback,
link-local and other non-global targets are refused unless FACE_ALLOW_PRIVATE_URLS=true
(local development). Redirects are followed at most MAX_REDIRECTS times, each target
resolved and checked again like the first. The body is capped at 6 MB, and the whole
download (every hop, headers and body) at FACE_URL_TIMEOUT_SECONDS; nothing is stored.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from shared.engine.imaging import MAX_BYTES
from shared.errors import InvalidImageSize, InvalidURL
from shared.settings import env_bool, env_float

MAX_REDIRECTS = 3
_CHUNK = 64 * 1024
_USER_AGENT = "face-functions-image-fetch/1"


def fetch_image(url: str) -> bytes:
    deadline = time.monotonic() + env_float("FACE_URL_TIMEOUT_SECONDS", 10.0)
    for _ in range(MAX_REDIRECTS + 1):
        status, location, body = _get_once(url, deadline)
        if location is None:
            if status != 200:
                raise InvalidURL(f"Failed to download image from the specified URL. Remote server returned {status}.")
            return body
        url = urljoin(url, location)
    raise InvalidURL("Failed to download image from the specified URL: too many redirects.")


def address_allowed(address: str) -> bool:
    """Whether we may connect to this IP address under the current settings."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_multicast:
        return False
    return env_bool("FACE_ALLOW_PRIVATE_URLS") or ip.is_global


def _get_once(url: str, deadline: float) -> tuple[int, str | None, bytes]:
    """(status, redirect location or None, body of a 200)."""
    target = _parse(url)
    connection = _connection(target, deadline)
    with _Deadline(connection, deadline) as limit:
        try:
            connection.request("GET", target.request_path, headers={
                "Host": target.host_header, "User-Agent": _USER_AGENT, "Accept": "image/*,*/*;q=0.5"})
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                answer = response.status, response.getheader("Location"), b""
            elif response.status != 200:
                answer = response.status, None, b""
            else:
                answer = 200, None, _read_capped(response)
        except (OSError, http.client.HTTPException, UnicodeError) as err:
            limit.check()
            raise InvalidURL("Failed to download image from the specified URL.") from err
        limit.check()  # a cut-off answer can look complete (headers or body ended by the shutdown)
        return answer


class _Deadline:
    """Socket timeouts bound each wait, not the whole download: a server trickling a byte at a
    time (headers or body) never trips them. At the deadline the socket is shut down, which
    ends every blocked read at once."""

    def __init__(self, connection: http.client.HTTPConnection, deadline: float):
        self._connection = connection
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._cut)
        self._fired = threading.Event()

    def __enter__(self) -> "_Deadline":
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        self._connection.close()

    def check(self) -> None:
        if self._fired.is_set():
            raise InvalidURL("Failed to download image from the specified URL: timed out.")

    def _cut(self) -> None:
        self._fired.set()
        try:
            if self._connection.sock is not None:
                self._connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    host_header: str
    request_path: str


def _parse(url: str) -> _Target:
    if not isinstance(url, str) or not url:
        raise InvalidURL("Invalid image URL.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        host_header = _host_header(parts.hostname or "", parts.port)
    except ValueError as err:  # includes UnicodeError from IDNA encoding
        raise InvalidURL("Invalid image URL.") from err
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidURL("Invalid image URL: only http and https URLs are supported.")
    scheme = parts.scheme.lower()
    port = port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    path = quote(path, safe="/?&=%:@!$'()*+,;~-._")  # non-ASCII and spaces, percent-encoded
    return _Target(scheme, parts.hostname, port, host_header, path)


def _host_header(hostname: str, port: int | None) -> str:
    """The Host header: IDNA-encoded names, bracketed IPv6 literals, the port if given."""
    host = f"[{hostname}]" if ":" in hostname else hostname.encode("idna").decode("ascii")
    return f"{host}:{port}" if port else host


def _resolve_checked(host: str, port: int) -> str:
    """One resolution; refused if any address is off-limits (a mixed answer is suspicious)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise InvalidURL("Failed to download image from the specified URL: host not found.") from err
    addresses = [info[4][0] for info in infos]
    if not addresses or not all(address_allowed(address) for address in addresses):
        raise InvalidURL("Invalid image URL: the address is not reachable from the service.")
    return addresses[0]


def _connection(target: _Target, deadline: float) -> http.client.HTTPConnection:
    address = _resolve_checked(target.host, target.port)
    timeout = max(0.1, deadline - time.monotonic())
    if target.scheme == "https":
        return _PinnedHTTPSConnection(address, target.host, target.port, timeout)
    return http.client.HTTPConnection(address, target.port, timeout=timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to a pre-resolved address, verifying the certificate for the original host name."""

    def __init__(self, address: str, server_name: str, port: int, timeout: float):
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self._server_name = server_name

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_name)


def _read_capped(response: http.client.HTTPResponse) -> bytes:
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > MAX_BYTES:
        raise InvalidImageSize("Image size is too big.")
    chunks, total = [], 0
    while chunk := response.read1(_CHUNK):
        total += len(chunk)
        if total > MAX_BYTES:
            raise InvalidImageSize("Image size is too big.")
        chunks.append(chunk)
    return b"".join(chunks)

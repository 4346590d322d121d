"""HTTP triggers over a threading HTTP/1.1 server, with azure-functions request/response objects.

Also serves the host's admin endpoint ``POST /admin/functions/{name}`` (body
``{"input": "..."}``), which runs a non-HTTP function once, as ``func start`` allows.
"""
from __future__ import annotations

import json
import logging
import socket
import threading
from concurrent.futures import Executor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from devhost.functions import HostedFunction

logger = logging.getLogger("devhost.http")
_ADMIN_PREFIX = "/admin/functions/"
MAX_BODY_BYTES = 100 * 1024 * 1024  # the Functions host's request size limit


class HttpRouter:
    def __init__(self, functions: list[HostedFunction]):
        routes = [(function.route, function.methods, function) for function in functions]
        self._routes = sorted(routes, key=lambda route: route[0].precedence)

    def find(self, method: str, path: str) -> tuple[HostedFunction, dict[str, str]] | None:
        for template, methods, function in self._routes:
            if methods is not None and method not in methods:
                continue
            values = template.match(path)
            if values is not None:
                return function, values
        return None


class FunctionsHttpServer(ThreadingHTTPServer):
    """One thread per connection reads requests and writes responses (the host's part); the
    functions run on ``workers``, a bounded pool like the Python worker's (see host.py). With
    ``max_outstanding`` (host.json maxOutstandingRequests), a request arriving while that many
    are queued or running is answered 429 at once, as the Functions host does."""

    daemon_threads = True
    request_queue_size = 128  # listen backlog; the stdlib default of 5 refuses bursts

    def __init__(self, address: tuple[str, int], router: HttpRouter, invoke_admin, workers: Executor,
                 max_outstanding: int | None = None, listener: socket.socket | None = None):
        super().__init__(address, _Handler, bind_and_activate=listener is None)
        if listener is not None:  # shared with other worker processes (workers.py)
            self.socket.close()
            self.socket = listener
            self.server_address = listener.getsockname()
        self.router = router
        self.invoke_admin = invoke_admin
        self.workers = workers
        self.outstanding = threading.BoundedSemaphore(max_outstanding) if max_outstanding else None

    def get_request(self) -> tuple[socket.socket, object]:
        connection, address = self.socket.accept()
        connection.setblocking(True)  # whatever the (possibly shared, non-blocking) listener is
        return connection, address

    def run(self, function: HostedFunction, request: func.HttpRequest) -> object | None:
        """The function's result, run on a worker thread; None when too many are outstanding."""
        if self.outstanding is None:
            return self.workers.submit(function.invoke, request).result()
        if not self.outstanding.acquire(blocking=False):
            return None
        try:
            return self.workers.submit(function.invoke, request).result()
        finally:
            self.outstanding.release()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body waits for the
    # client's delayed ACK (~40 ms per response on keep-alive connections).
    disable_nagle_algorithm = True
    server: FunctionsHttpServer

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except ValueError as err:
            self._send(HTTPStatus.BAD_REQUEST, {"Content-Type": "text/plain"}, str(err).encode())
            self.close_connection = True
            return
        url = urlsplit(self.path)
        if self.command == "POST" and url.path.lower().startswith(_ADMIN_PREFIX):
            self._admin(url.path[len(_ADMIN_PREFIX):], body)
            return
        found = self.server.router.find(self.command, url.path)
        if found is None:
            self._send(HTTPStatus.NOT_FOUND, {}, b"")
            return
        function, route_params = found
        request = func.HttpRequest(
            self.command, self._public_url(), headers=dict(self.headers.items()),
            params=dict(parse_qsl(url.query, keep_blank_values=True)),
            route_params=route_params, body=body)
        # The connection's peer, where a client cannot write it (not a header): what
        # shared.api.client_address reads as the request's source address.
        request.socket_peer = self.client_address[0]
        try:
            response = self.server.run(function, request)
        except Exception:  # the real host answers 500 for an exception escaping a function
            logger.exception("function %s raised", function.name)
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {}, b"")
            return
        if response is None:
            self._send(HTTPStatus.TOO_MANY_REQUESTS, {"Content-Type": "text/plain"}, b"Too Busy")
            return
        self._send_function_response(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            size_line = self.rfile.readline(1024)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError as err:
                raise ValueError("malformed chunked body") from err
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise ValueError("request body too large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)  # the CRLF after each chunk

    def _public_url(self) -> str:
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        return f"http://{host}{self.path}"

    def _admin(self, name: str, body: bytes) -> None:
        try:
            payload = json.loads(body or b"{}")
            self.server.invoke_admin(name, payload.get("input"))
        except KeyError:
            self._send(HTTPStatus.NOT_FOUND, {}, b"")
            return
        except Exception:
            logger.exception("admin invocation of %s failed", name)
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {}, b"")
            return
        self._send(HTTPStatus.ACCEPTED, {}, b"")

    def _send_function_response(self, response: object) -> None:
        if not isinstance(response, func.HttpResponse):
            logger.error("HTTP function returned %r, not an HttpResponse", type(response))
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {}, b"")
            return
        headers = dict(response.headers.items())
        if response.mimetype and not any(k.lower() == "content-type" for k in headers):
            charset = f"; charset={response.charset}" if response.charset and response.mimetype.startswith(
                ("text/", "application/json")) else ""
            headers["Content-Type"] = response.mimetype + charset
        self._send(response.status_code, headers, response.get_body() or b"")

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        logger.info("%s %s", self.address_string(), format % args)

"""A TCP fault proxy on loopback, between the app and Azurite.

One ``FaultProxy`` per upstream port (blob, queue, table); the proxies of one app share a
``FaultPlan``, which says what happens to the traffic now:

- ``Fault.NONE``: bytes pass through;
- ``Fault.DELAY``: every chunk waits ``delay`` seconds before it is passed on;
- ``Fault.RESET``: every connection is closed with a TCP RST (SO_LINGER 0), new ones at once;
- ``Fault.BLACKHOLE``: connections are accepted but nothing passes either way, ever (a
  connection silenced once stays silent even after the fault clears, as a real one would
  after losing bytes).

A plan can also *trip* on one storage request (by its request line matching a pattern, or by
its number among the app's requests): ``hold`` keeps that request from ever reaching Azurite
(the test then kills the app, so the step it was about to take never happens), ``before``
starts an outage with that request dropped, ``after`` lets it reach Azurite and starts the
outage when the answer comes back (the write landed but the app never learns it did).

The host's own queue traffic (polling, renewing and deleting leased messages) is passed
through and not counted, so a request's number depends only on what the app's code does.
"""
from __future__ import annotations

import enum
import re
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

_REQUEST_LINE = re.compile(rb"^(GET|POST|PUT|DELETE|HEAD|PATCH|MERGE|OPTIONS) (\S+) HTTP/1\.1\r\n")
# The host's queue traffic: receiving (polling), renewing and deleting leased messages.
_HOST_QUEUE_TRAFFIC = re.compile(rb"^(GET \S*/messages\?|\S+ \S*/messages/)")
_CHUNK = 65536


class Fault(enum.Enum):
    NONE = "none"
    DELAY = "delay"
    RESET = "reset"
    BLACKHOLE = "blackhole"


@dataclass
class Trip:
    action: str  # "hold", "before" or "after"
    pattern: bytes | None = None  # a regex searched in each chunk the app sends
    number: int | None = None  # or: the n-th counted request (0-based)
    then: Fault = Fault.RESET  # the outage "before"/"after" start
    fired: threading.Event = field(default_factory=threading.Event)
    request: bytes = b""  # the request line that fired it


class FaultPlan:
    """What the proxies of one app do to its traffic; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.fault = Fault.NONE
        self.delay = 0.0
        self.trip: Trip | None = None
        self.requests: list[bytes] = []  # request lines counted since the last reset_log()

    def set(self, fault: Fault, delay: float = 0.0) -> None:
        with self._lock:
            self.fault, self.delay = fault, delay

    def clear(self) -> None:
        with self._lock:
            self.fault, self.delay, self.trip = Fault.NONE, 0.0, None

    def arm(self, trip: Trip) -> Trip:
        with self._lock:
            self.trip = trip
        return trip

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def on_request(self, chunk: bytes) -> str:
        """Decide what to do with a chunk from the app: "pass", "hold", "drop" or "fail-answer"."""
        line = _REQUEST_LINE.match(chunk)
        with self._lock:
            counted = line is not None and not _HOST_QUEUE_TRAFFIC.match(chunk)
            number = len(self.requests)
            if counted:
                self.requests.append(chunk.split(b"\r\n", 1)[0])
            trip = self.trip
            if trip is None or trip.fired.is_set():
                return "pass"
            if trip.pattern is not None:
                hit = re.search(trip.pattern, chunk) is not None
            else:
                hit = counted and number == trip.number
            if not hit:
                return "pass"
            trip.request = chunk.split(b"\r\n", 1)[0]
            trip.fired.set()
            if trip.action == "hold":
                return "hold"
            if trip.action == "before":
                self.fault = trip.then
                return "drop"
            return "fail-answer"


class FaultProxy:
    def __init__(self, upstream_port: int, plan: FaultPlan):
        self.upstream_port = upstream_port
        self.plan = plan
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name=f"fault-proxy-{self.port}", daemon=True)

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        if self.plan.fault is Fault.RESET:
            _reset(client)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
        except OSError:
            _reset(client)  # upstream down: the app sees what it would see without us
            return
        _Pipe(client, upstream, self.plan).run()


class _Pipe:
    """One proxied connection."""

    def __init__(self, client: socket.socket, upstream: socket.socket, plan: FaultPlan):
        self.client, self.upstream, self.plan = client, upstream, plan
        self.silenced = plan.fault is Fault.BLACKHOLE
        self.held = False
        self.fail_answer = False

    def run(self) -> None:
        try:
            while True:
                fault = self.plan.fault
                if fault is Fault.RESET:
                    return self._reset_both()
                if fault is Fault.BLACKHOLE:
                    self.silenced = True
                ready, _, _ = select.select([self.client, self.upstream], [], [], 0.05)
                for sock in ready:
                    data = sock.recv(_CHUNK)
                    if not data:
                        return self._close_both()
                    if sock is self.client:
                        self._from_app(data)
                    else:
                        self._from_storage(data)
        except OSError:
            self._close_both()

    def _from_app(self, data: bytes) -> None:
        if self.silenced or self.held:
            return
        decision = self.plan.on_request(data)
        if decision == "hold":
            self.held = True
            return
        if decision == "drop":
            return  # never reaches storage; the outage the plan now has takes this connection too
        if decision == "fail-answer":
            self.fail_answer = True
        self._send(self.upstream, data)

    def _from_storage(self, data: bytes) -> None:
        if self.silenced or self.held:
            return
        if self.fail_answer:
            # The request reached storage; its answer is lost and the outage starts now.
            trip = self.plan.trip
            self.plan.set(trip.then if trip is not None else Fault.RESET)
            self.silenced = True
            return
        self._send(self.client, data)

    def _send(self, sock: socket.socket, data: bytes) -> None:
        if self.plan.fault is Fault.DELAY and self.plan.delay:
            time.sleep(self.plan.delay)
        sock.sendall(data)

    def _reset_both(self) -> None:
        _reset(self.client)
        _reset(self.upstream)

    def _close_both(self) -> None:
        for sock in (self.client, self.upstream):
            try:
                sock.close()
            except OSError:
                pass


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN: the peer gets "connection reset by peer"."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass

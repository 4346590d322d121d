"""DevHost: runs a FunctionApp's HTTP, timer and queue functions in this process."""
from __future__ import annotations

import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import azure.functions as func
from azure.functions.timer import TimerRequest

from devhost.functions import HTTP_TRIGGER, QUEUE_TRIGGER, TIMER_TRIGGER, HostedFunction, discover
from devhost.http import FunctionsHttpServer, HttpRouter
from devhost.queues import QueueListener
from devhost.timers import TimerRunner


def worker_threads() -> int | None:
    """PYTHON_THREADPOOL_THREAD_COUNT, as the Functions Python worker reads it: the number of
    threads that run synchronous functions (unset: Python's default, min(32, cores + 4)).
    Requests beyond it wait for a thread instead of all running at once."""
    value = os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT", "").strip()
    return int(value) if value else None


class DevHost:
    def __init__(self, app: func.FunctionApp, host: str = "127.0.0.1", port: int = 7071,
                 run_timers: bool = True, run_queues: bool = True, max_outstanding: int | None = None,
                 listener: socket.socket | None = None):
        self.functions = {f.name: f for f in discover(app)}
        self._stop = threading.Event()
        self._workers = ThreadPoolExecutor(worker_threads(), thread_name_prefix="devhost-worker")
        self._server = FunctionsHttpServer((host, port), HttpRouter(self._of_kind(HTTP_TRIGGER)), self.invoke,
                                           self._workers, max_outstanding, listener)
        self._timers = [TimerRunner(f, self._stop) for f in self._of_kind(TIMER_TRIGGER)] if run_timers else []
        self._queues = [QueueListener(f, self._stop) for f in self._of_kind(QUEUE_TRIGGER)] if run_queues else []
        self._server_thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        """Serve in background threads; returns at once."""
        for worker in (*self._queues, *self._timers):
            worker.start()
        self._server_thread = threading.Thread(target=self._server.serve_forever, name="devhost-http", daemon=True)
        self._server_thread.start()

    def wait(self) -> None:
        """Block until the HTTP server stops (Ctrl+C raises KeyboardInterrupt here)."""
        if self._server_thread is not None:
            self._server_thread.join()

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._workers.shutdown(wait=False, cancel_futures=True)
        for worker in (*self._queues, *self._timers):
            worker.join(timeout=10)

    def invoke(self, name: str, value: str | None = None) -> object:
        """Run a non-HTTP function once, like the host's admin endpoint (KeyError if unknown)."""
        function = self.functions[name]
        if function.kind == TIMER_TRIGGER:
            return function.invoke(TimerRequest(past_due=False))
        if function.kind == QUEUE_TRIGGER:
            return function.invoke(func.QueueMessage(body=(value or "").encode()))
        raise KeyError(name)

    def _of_kind(self, kind: str) -> list[HostedFunction]:
        return [f for f in self.functions.values() if f.kind == kind]

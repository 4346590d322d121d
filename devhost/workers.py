"""Several worker processes on one port, as FUNCTIONS_WORKER_PROCESS_COUNT gives the host.

The Functions host parses HTTP in its own process and can spread invocations over up to 10
Python worker processes, so CPU-bound Python code is not held to one core by the GIL. The
devhost does the same with forked processes sharing one listening socket: every process
serves HTTP (the kernel hands each new connection to whichever accepts first); timers and
queue listeners run in the first process only.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable

logger = logging.getLogger("devhost.workers")
MAX_PROCESSES = 10  # the host's limit
_STOP_SECONDS = 15


def worker_process_count() -> int:
    value = os.environ.get("FUNCTIONS_WORKER_PROCESS_COUNT", "").strip()
    return max(1, min(MAX_PROCESSES, int(value))) if value else 1


def shared_listener(host: str, port: int) -> socket.socket:
    """A listening socket for several processes. Non-blocking, so a process that loses the
    race for a connection returns to its loop instead of blocking in accept()."""
    listener = socket.create_server((host, port), backlog=128)
    listener.setblocking(False)
    return listener


def fork_workers(count: int, serve: Callable[[], None]) -> list[int]:
    """Fork ``count`` processes that each run ``serve`` and exit; returns their pids."""
    pids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                serve()
            except BaseException:  # a worker must never return into the parent's code
                logger.exception("worker process failed")
                code = 1
            finally:
                os._exit(code)
        pids.append(pid)
    return pids


def stop_workers(pids: list[int]) -> None:
    """Ctrl+C each worker (they stop like the first process does), then reap them."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + _STOP_SECONDS
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

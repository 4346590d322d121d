"""The app as its own process for the reliability tests (``python -m devhost``, what
``make run`` starts), and helpers around it. Plain module: conftest files are not importable."""
from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from emulator import REPO_ROOT, free_port
from gallery_support import photos

STORAGE_TIMEOUT_SECONDS = 1.0
STORAGE_RETRIES = 1
# A request gives up on its first failing storage call after (retries + 1) attempts of at
# most one timeout each (plus sub-second backoffs), and then makes at most one more call to
# undo its first step: the bound below is three such calls, with slack for a loaded machine.
FAIL_FAST_SECONDS = 3 * (STORAGE_RETRIES + 1) * (STORAGE_TIMEOUT_SECONDS + 0.5) + 2


_ENDPOINT = r"(?P<name>Blob|Queue|Table)Endpoint=http://127\.0\.0\.1:(?P<port>\d+)"


def azurite_ports(connection_string: str) -> dict[str, int]:
    """{"Blob": port, "Queue": port, "Table": port} of an Azurite connection string."""
    return {match["name"]: int(match["port"]) for match in re.finditer(_ENDPOINT, connection_string)}


def with_ports(connection_string: str, ports: dict[str, int]) -> str:
    """The same connection string with other endpoint ports (a proxy's, a restarted Azurite's)."""
    return re.sub(_ENDPOINT, lambda m: f"{m['name']}Endpoint=http://127.0.0.1:{ports[m['name']]}", connection_string)


@dataclass
class AppProcess:
    """The function app served by ``python -m devhost`` in a child process."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def prefix(self) -> str:
        return self.env["FACE_STORAGE_PREFIX"]

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 90.0) -> None:
        env = {**self.env, "PORT": str(self.port)}
        output = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "devhost"], cwd=REPO_ROOT, env=env,
                                        stdout=output, stderr=subprocess.STDOUT)
        output.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{self.url}/face/v1.2/none", timeout=5).status_code == 404:
                    return
            except requests.ConnectionError:
                pass
            assert self.process.poll() is None, self.logs()[-3000:]
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no finally blocks, exactly what a crashed worker leaves."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> None:
        self.kill()
        self.start()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def status(self) -> dict[str, int]:
        """VmRSS, VmHWM (peak RSS) in kB and the thread count, from /proc."""
        values = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM", "Threads"):
                values[name] = int(rest.split()[0])
        return values

    def headers(self, key: str | None = None, content_type: str | None = "application/json") -> dict:
        sent = {"Ocp-Apim-Subscription-Key": key or self.env["FACE_ADMIN_KEYS"]}
        if content_type:
            sent["Content-Type"] = content_type
        return sent

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = "application/json",
                timeout: float = 60) -> requests.Response:
        """One call with the admin key on its own connection (Connection: close, so a thread the
        app still has after the answer is a worker, not an idle keep-alive)."""
        headers = {**self.headers(content_type=content_type), "Connection": "close"}
        return requests.request(method, f"{self.url}/{path}", data=body, headers=headers, timeout=timeout)


def app_settings(connection_string: str, service) -> dict[str, str]:
    """The environment of a child app process: its own storage prefix, the session's keys."""
    return {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
        "AzureWebJobsStorage": connection_string,
        "FACE_STORAGE_PREFIX": "r" + secrets.token_hex(4),
        "FACE_TEMPLATE_KEY": os.environ["FACE_TEMPLATE_KEY"],
        "FACE_LIVENESS_TOKEN_KEY": os.environ["FACE_LIVENESS_TOKEN_KEY"],
        "FACE_RATE_ADMIN_PER_SECOND": "0", "FACE_RATE_RECOGNIZER_PER_SECOND": "0",  # no 429s in fault tests
        "FACE_ADMIN_KEYS": service.admin_key, "FACE_RECOGNIZER_KEYS": service.recognizer_key,
        "FACE_SWEEP_SCHEDULE": "0 0 0 1 1 *",  # tests run the sweep themselves
        "FACE_STORAGE_TIMEOUT_SECONDS": str(STORAGE_TIMEOUT_SECONDS),
        "FACE_STORAGE_RETRIES": str(STORAGE_RETRIES),
        "FACE_MODEL_MIRRORS": os.environ["FACE_MODEL_MIRRORS"],  # set by the session's service fixture
        "PYTHON_THREADPOOL_THREAD_COUNT": "4",  # a worker pool test_storage_faults can fill
        "DEVHOST_QUEUE_LEASE_SECONDS": "3",  # a killed app's queue messages come back within 3 s
    }


def person_photo(person: str = "obama", index: int = 0) -> bytes:
    """A shared photo with one face (the same folder the other test areas read)."""
    return photos(person)[index].read_bytes()


def eventually(condition, seconds: float = 15.0, step: float = 0.2) -> bool:
    """Whether ``condition()`` comes true within ``seconds`` (asked every ``step``)."""
    for _ in range(int(seconds / step)):
        if condition():
            return True
        time.sleep(step)
    return condition()

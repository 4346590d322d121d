"""Azurite, the storage emulator, as a child process on loopback ports (a plain module:
conftest files are not importable). It can be stopped and started again on the same ports
and data folder, which is how the reliability tests restart storage under a running app."""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
AZURITE = REPO_ROOT / "node_modules" / ".bin" / "azurite"
AZURITE_ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
                       "K1SZFPTOtr/KBHBeksoGMGw==")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def azurite_connection_string(blob: int, queue: int, table: int) -> str:
    base = "http://127.0.0.1:{}/devstoreaccount1"
    return (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_ACCOUNT_KEY};"
            f"BlobEndpoint={base.format(blob)};QueueEndpoint={base.format(queue)};"
            f"TableEndpoint={base.format(table)};")


class Azurite:
    """One Azurite with its own blob, queue and table ports and data folder."""

    def __init__(self, location: Path, *extra_args: str):
        """``extra_args`` such as ``--oauth basic --cert ... --key ...``."""
        self.location = location
        self.extra_args = extra_args
        self.ports = [free_port() for _ in range(3)]
        self._process: subprocess.Popen | None = None

    @property
    def connection_string(self) -> str:
        return azurite_connection_string(*self.ports)

    def start(self) -> None:
        if not AZURITE.exists():
            raise RuntimeError("Azurite is not installed: run `make setup` (npm ci)")
        blob, queue, table = self.ports
        self._process = subprocess.Popen(
            [str(AZURITE), "--silent", "--skipApiVersionCheck", "--disableTelemetry", "--loose",
             "--location", str(self.location),
             "--blobHost", "127.0.0.1", "--blobPort", str(blob),
             "--queueHost", "127.0.0.1", "--queuePort", str(queue),
             "--tableHost", "127.0.0.1", "--tablePort", str(table), *self.extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for port in self.ports:
                self._wait_for_port(port)
        except RuntimeError:
            self.stop()  # never leave a half-started Azurite behind
            raise

    def stop(self) -> None:
        """SIGTERM (Azurite saves its data), then SIGKILL if it does not exit."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def _wait_for_port(self, port: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Azurite exited early with code {self._process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"Azurite did not listen on port {port} within {timeout} s")

"""`python -m devhost` (what `make run` starts) serves the app as a separate process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from emulator import free_port
from svc_support import REPO_ROOT

SETTINGS = ("AzureWebJobsStorage", "FACE_STORAGE_PREFIX", "FACE_TEMPLATE_KEY", "FACE_LIVENESS_TOKEN_KEY",
            "FACE_ADMIN_KEYS", "FACE_RECOGNIZER_KEYS", "FACE_MODEL_MIRRORS")


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.parametrize("processes", [1, 2])
def test_devhost_process_serves_the_app_and_stops_on_ctrl_c(service, tmp_path, processes):
    """With FUNCTIONS_WORKER_PROCESS_COUNT=2 a forked worker serves the same port and stops with it."""
    port = free_port()
    env = {**{name: os.environ[name] for name in SETTINGS}, "PATH": os.environ["PATH"], "PORT": str(port),
           "FUNCTIONS_WORKER_PROCESS_COUNT": str(processes),
           "FACE_SWEEP_SCHEDULE": "0 0 0 1 1 *", "HOME": str(tmp_path),
           # its own tables and queues: its queue listeners must not take the in-process host's work
           "FACE_STORAGE_PREFIX": service.storage_prefix + "cli"}
    log = tmp_path / "devhost.log"
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "devhost"], cwd=REPO_ROOT, env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    health = requests.get(f"{base}/health", timeout=30)
                    break
                except requests.ConnectionError:
                    assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            assert health.status_code == 200, health.text
            workers = _children(process.pid)
            assert len(workers) == processes - 1
            # Fresh connections, so both processes get some (whichever accepts first).
            for _ in range(8):
                unknown = requests.get(f"{base}/face/v1.2/nothing", timeout=10)
                assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "404"
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0
            assert not any(Path(f"/proc/{worker}").exists() for worker in workers)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

"""Azurite stopped and started again under a running app, with clients writing throughout:
requests fail fast while it is away, work again once it is back without restarting the app
(storage clients, tables made on first use, the queue listener), and nothing acknowledged
is lost."""
from __future__ import annotations

import shutil
import threading
import time
import uuid

import pytest
import requests

from audit import gallery_violations, settle
from emulator import Azurite
from reliability_support import FAIL_FAST_SECONDS, AppProcess, app_settings, eventually


@pytest.fixture
def restartable(service, tmp_path, monkeypatch):
    """Its own Azurite and app; shared.* in this process reads that Azurite too."""
    emulator = Azurite(tmp_path / "azurite")
    emulator.start()
    app = AppProcess(app_settings(emulator.connection_string, service), tmp_path / "app.log")
    try:
        app.start()
        monkeypatch.setenv("AzureWebJobsStorage", emulator.connection_string)
        monkeypatch.setenv("FACE_STORAGE_PREFIX", app.prefix)
        yield emulator, app
    finally:
        app.stop()
        emulator.stop()
        shutil.rmtree(tmp_path / "azurite", ignore_errors=True)


class _Writer(threading.Thread):
    """A client creating persons one after another, remembering what each answer was."""

    def __init__(self, app: AppProcess, group: str):
        super().__init__(daemon=True)
        self.app, self.group = app, group
        self.created: list[str] = []
        self.answers: list[tuple[float, int, float]] = []  # (when, status, seconds taken)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                response = requests.post(f"{self.app.url}/face/v1.2/persongroups/{self.group}/persons",
                                         json={"name": "w"}, headers=self.app.headers(), timeout=60)
                status = response.status_code
            except requests.ConnectionError:
                status = 0
            self.answers.append((started, status, time.monotonic() - started))
            if status == 200:
                self.created.append(response.json()["personId"])
            time.sleep(0.05)


def _first_ok(writer: _Writer, back: float) -> float:
    return min(when + took for when, status, took in writer.answers if when > back and status == 200) - back


def _base(app: AppProcess, group: str) -> str:
    return f"{app.url}/face/v1.2/persongroups/{group}"


def test_the_app_rides_out_a_storage_restart(restartable, clock):
    emulator, app = restartable
    group = "restart-" + uuid.uuid4().hex[:8]
    assert requests.put(_base(app, group), json={"name": "g"}, headers=app.headers(), timeout=30).status_code == 200
    writer = _Writer(app, group)
    writer.start()
    time.sleep(1)
    emulator.stop()
    down = time.monotonic()
    time.sleep(3)
    restarting = time.monotonic()  # from here a request may already reach the restarting Azurite
    emulator.start()
    back = time.monotonic()
    assert eventually(lambda: any(when > back and status == 200 for when, status, _ in writer.answers), 30), \
        writer.answers[-5:]
    time.sleep(1)
    writer.stop.set()
    writer.join(timeout=60)

    assert {status for _, status, _ in writer.answers} <= {200, 503}, writer.answers
    during = [(status, took) for when, status, took in writer.answers if when > down and when + took < restarting]
    assert during and all(status == 503 for status, _ in during), during
    assert max(took for _, _, took in writer.answers) < FAIL_FAST_SECONDS
    print(f"\nstorage restart: {len(writer.answers)} writes, {len(during)} while storage was away (all 503), "
          f"{len(writer.created)} answered 200 and all kept, first 200 {_first_ok(writer, back):.1f} s after restart")
    listed = requests.get(f"{_base(app, group)}/persons", headers=app.headers(), timeout=30).json()
    assert set(writer.created) <= {person["personId"] for person in listed}  # every 200 is there

    # The queue listener came back too: a training queued now finishes.
    assert requests.post(f"{_base(app, group)}/train", headers=app.headers(), timeout=30).status_code == 202
    def training_status() -> str:
        return requests.get(f"{_base(app, group)}/training", headers=app.headers(), timeout=30).json()["status"]

    assert eventually(lambda: training_status() not in ("notStarted", "running"), 30)
    assert training_status() == "failed"  # persons without faces: Azure's answer for an empty group, from the worker
    settle(clock)
    assert gallery_violations() == []

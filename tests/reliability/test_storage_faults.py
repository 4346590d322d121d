"""Storage that is slow, resets connections or goes silent: requests fail fast with 503 and
Retry-After, no worker hangs, and everything works again once storage is back."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from faultproxy import Fault
from reliability_support import FAIL_FAST_SECONDS, eventually, person_photo

FAULTS = [pytest.param(Fault.DELAY, 3.0, id="delay-3s"), pytest.param(Fault.RESET, 0.0, id="reset"),
          pytest.param(Fault.BLACKHOLE, 0.0, id="blackhole")]


@pytest.fixture(scope="module")
def group(app) -> tuple[str, str]:
    """A person group with one person, made while storage is healthy."""
    group_id = "f-" + uuid.uuid4().hex[:10]
    base = f"{app.url}/face/v1.2/persongroups/{group_id}"
    assert requests.put(base, json={"name": "faults"}, headers=app.headers(), timeout=30).status_code == 200
    person = requests.post(f"{base}/persons", json={"name": "p"}, headers=app.headers(), timeout=30)
    return group_id, person.json()["personId"]


def _requests(app, group_id: str, person_id: str) -> dict[str, tuple]:
    """One read, and writes of each kind: (method, path, body, content type)."""
    photo = person_photo()
    base = f"face/v1.2/persongroups/{group_id}"
    return {
        "get group": ("GET", base, None, None),
        "detect with faceId": ("POST", "face/v1.2/detect?returnFaceId=true", photo, "application/octet-stream"),
        "create group": ("PUT", f"face/v1.2/persongroups/f-{uuid.uuid4().hex[:10]}", b'{"name": "n"}',
                         "application/json"),
        "create person": ("POST", f"{base}/persons", b'{"name": "n"}', "application/json"),
        "add face": ("POST", f"{base}/persons/{person_id}/persistedfaces", photo, "application/octet-stream"),
        "train": ("POST", f"{base}/train", b"", "application/json"),
    }


def _send(app, method: str, path: str, body: bytes | None, content_type: str | None) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = app.request(method, path, body, content_type)
    return response, time.monotonic() - started


def _send_all(app, calls: dict[str, tuple]) -> dict[str, tuple[requests.Response, float]]:
    with ThreadPoolExecutor(len(calls)) as pool:  # all at once: no request waits behind another
        return dict(zip(calls, pool.map(lambda call: _send(app, *call), calls.values())))


@pytest.fixture(scope="module")
def idle_threads(app, group) -> int:
    """The app's thread count after the same requests with healthy storage: lazily started
    pools (ONNX runtime, parallel readers, the host's workers) exist from then on; request
    threads are gone. Two rounds at once (one train), more requests than the app's worker threads
    (PYTHON_THREADPOOL_THREAD_COUNT, set in reliability_support), so the worker pool has
    grown to its full size here and a thread left over later is not a pool worker."""
    rounds = [_requests(app, *group) for _ in range(2)]
    del rounds[1]["train"]  # one training at a time (409 otherwise)
    answers = _send_all(app, {f"{name} ({n})": call for n, calls in enumerate(rounds) for name, call in calls.items()})
    assert all(response.status_code < 300 for response, _ in answers.values()), answers
    time.sleep(1)
    return app.status()["Threads"]


@pytest.mark.parametrize("fault, delay", FAULTS)
def test_requests_fail_fast_with_503_while_storage_fails(app, plan, group, idle_threads, fault, delay):
    plan.set(fault, delay)
    calls = _requests(app, *group)
    answers = _send_all(app, calls)
    for name, (response, elapsed) in answers.items():
        assert response.status_code == 503, (name, response.status_code, response.text)
        assert response.json()["error"]["code"] == "ServiceUnavailable", name
        assert int(response.headers["Retry-After"]) >= 1, name
        assert elapsed < FAIL_FAST_SECONDS, (name, elapsed)

    plan.clear()
    response, elapsed = _send(app, *calls["get group"])
    assert response.status_code == 200 and elapsed < 2, (response.status_code, elapsed)
    assert eventually(lambda: app.status()["Threads"] <= idle_threads), (idle_threads, app.status())  # none hangs


def test_slow_storage_below_the_timeout_is_only_slow(app, plan, group):
    plan.set(Fault.DELAY, 0.1)
    response, elapsed = _send(app, *_requests(app, *group)["create person"])
    assert response.status_code == 200, response.text
    assert elapsed > 0.2  # it did go through the delay


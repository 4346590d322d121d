"""The local host: route precedence, NCRONTAB, settings, timer and queue triggers."""
from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import azure.functions as func
import pytest
import requests
from azure.storage.queue import QueueClient, QueueServiceClient, TextBase64EncodePolicy

from devhost import DevHost
from devhost.http import HttpRouter
from devhost.functions import discover
from devhost.ncrontab import Schedule
from devhost.routing import RouteTemplate
from devhost.settings import load_local_settings, max_outstanding_requests, resolve
from emulator import Azurite
from reliability_support import eventually


def test_route_templates_match_like_aspnet():
    template = RouteTemplate.parse("face/{apiVersion}/persongroups/{personGroupId}")
    assert template.match("/FACE/v1.2/PersonGroups/abc") == {"apiVersion": "v1.2", "personGroupId": "abc"}
    assert template.match("/face/v1.2/persongroups") is None
    assert template.match("/face/v1.2/persongroups/abc/persons") is None
    optional = RouteTemplate.parse("items/{id?}")
    assert optional.match("/items") == {} and optional.match("/items/7") == {"id": "7"}
    catch_all = RouteTemplate.parse("files/{*rest}")
    assert catch_all.match("/files/a/b%20c") == {"rest": "a/b c"}
    with pytest.raises(ValueError):
        RouteTemplate.parse("face/{id:int}")


def test_literal_beats_parameter_and_catch_all_goes_last():
    app = func.FunctionApp()

    @app.route(route="{*path}")
    def fallback(req: func.HttpRequest) -> func.HttpResponse: ...

    @app.route(route="things/{thingId}", methods=["GET"])
    def by_id(req: func.HttpRequest) -> func.HttpResponse: ...

    @app.route(route="things/special", methods=["GET"])
    def special(req: func.HttpRequest) -> func.HttpResponse: ...

    router = HttpRouter(discover(app))
    assert router.find("GET", "/things/special")[0].name == "special"
    assert router.find("GET", "/Things/other")[0].name == "by_id"
    assert router.find("POST", "/things/other")[0].name == "fallback"
    assert router.find("GET", "/")[0].name == "fallback"


@pytest.mark.parametrize("expression, after, expected", [
    ("0 */5 * * * *", datetime(2026, 1, 1, 10, 2, 7), datetime(2026, 1, 1, 10, 5, 0)),
    ("0 */5 * * * *", datetime(2026, 1, 1, 10, 5, 0), datetime(2026, 1, 1, 10, 10, 0)),
    ("*/15 * * * * *", datetime(2026, 1, 1, 10, 2, 7), datetime(2026, 1, 1, 10, 2, 15)),
    ("0 30 9 * * Mon-Fri", datetime(2026, 1, 2, 10, 0, 0), datetime(2026, 1, 5, 9, 30, 0)),  # Fri -> Mon
    ("0 0 0 29 Feb *", datetime(2026, 3, 1), datetime(2028, 2, 29)),
    ("0 0 12 1,15 * 0", datetime(2026, 1, 1), datetime(2026, 2, 1, 12, 0, 0)),  # the 1st/15th on a Sunday
])
def test_ncrontab_next_occurrence(expression, after, expected):
    utc = timezone.utc
    assert Schedule.parse(expression).next_after(after.replace(tzinfo=utc)) == expected.replace(tzinfo=utc)


@pytest.mark.parametrize("expression", ["* * * * *", "60 * * * * *", "0 0 25 * * *", "a b c d e f"])
def test_ncrontab_rejects_bad_expressions(expression):
    with pytest.raises(ValueError):
        Schedule.parse(expression)


def test_local_settings_apply_unless_the_environment_has_the_value(tmp_path, monkeypatch):
    (tmp_path / "local.settings.json").write_text(json.dumps(
        {"Values": {"DEVHOST_TEST_A": "from-file", "DEVHOST_TEST_B": "from-file"}}))
    monkeypatch.setenv("DEVHOST_TEST_B", "from-env")
    monkeypatch.delenv("DEVHOST_TEST_A", raising=False)
    try:
        load_local_settings(tmp_path)
        assert os.environ["DEVHOST_TEST_A"] == "from-file"
        assert os.environ["DEVHOST_TEST_B"] == "from-env"
        assert resolve("%DEVHOST_TEST_A%-queue") == "from-file-queue"
        with pytest.raises(KeyError):
            resolve("%DEVHOST_TEST_UNSET%")
    finally:
        os.environ.pop("DEVHOST_TEST_A", None)


def test_timer_trigger_fires_on_schedule(service, monkeypatch):
    monkeypatch.setenv("DEVHOST_TEST_SCHEDULE", "* * * * * *")
    fired: list[bool] = []
    app = func.FunctionApp()

    @app.timer_trigger(schedule="%DEVHOST_TEST_SCHEDULE%", arg_name="timer")
    def tick(timer: func.TimerRequest) -> None:
        fired.append(timer.past_due)

    host = DevHost(app, port=0)
    host.start()
    try:
        assert eventually(lambda: len(fired) >= 2, seconds=5, step=0.05)
    finally:
        host.stop()


def test_queue_trigger_runs_base64_messages_and_poisons_after_five_failures(service, monkeypatch):
    name = f"{service.storage_prefix}-devhost"
    monkeypatch.setenv("DEVHOST_TEST_QUEUE", name)
    seen: list[bytes] = []
    app = func.FunctionApp()

    @app.queue_trigger(arg_name="message", queue_name="%DEVHOST_TEST_QUEUE%", connection="AzureWebJobsStorage")
    def work(message: func.QueueMessage) -> None:
        seen.append(message.get_body())
        if message.get_body() == b"fail":
            raise RuntimeError("this message always fails")

    host = DevHost(app, port=0)
    host.start()
    try:
        sender = QueueClient.from_connection_string(service.connection_string, name,
                                                    message_encode_policy=TextBase64EncodePolicy())
        sender.send_message('{"job": 1}')
        sender.send_message("fail")
        assert eventually(lambda: b'{"job": 1}' in seen and seen.count(b"fail") >= 5)
        poison = QueueClient.from_connection_string(service.connection_string, f"{name}-poison")
        assert eventually(lambda: len(poison.peek_messages(max_messages=5)) == 1)
        time.sleep(0.5)
        assert seen.count(b"fail") == 5
        assert sender.peek_messages(max_messages=5) == []
    finally:
        host.stop()



def test_queue_listener_waits_for_storage_that_starts_after_the_host(service, monkeypatch, tmp_path):
    """``make run`` starts Azurite and the host together: a host up first keeps listening and
    runs the messages once storage answers."""
    emulator = Azurite(tmp_path / "azurite")  # its ports are chosen, nothing listens yet
    monkeypatch.setenv("AzureWebJobsStorage", emulator.connection_string)
    monkeypatch.setenv("DEVHOST_TEST_QUEUE", "late-storage")
    seen: list[bytes] = []
    app = func.FunctionApp()

    @app.queue_trigger(arg_name="message", queue_name="%DEVHOST_TEST_QUEUE%", connection="AzureWebJobsStorage")
    def work(message: func.QueueMessage) -> None:
        seen.append(message.get_body())

    host = DevHost(app, port=0)
    host.start()
    try:
        emulator.start()
        sender = QueueClient.from_connection_string(emulator.connection_string, "late-storage",
                                                    message_encode_policy=TextBase64EncodePolicy())
        assert eventually(lambda: "late-storage" in [queue.name for queue in
                                                      QueueServiceClient.from_connection_string(
                                                          emulator.connection_string).list_queues()])
        sender.send_message("after the host")
        assert eventually(lambda: seen == [b"after the host"])
    finally:
        host.stop()
        emulator.stop()

def test_http_functions_run_on_a_bounded_worker_pool(monkeypatch):
    """Like the Python worker (PYTHON_THREADPOOL_THREAD_COUNT): requests beyond the pool wait
    for a thread instead of all running at once."""
    monkeypatch.setenv("PYTHON_THREADPOOL_THREAD_COUNT", "2")
    running, peak, lock = [0], [0], threading.Lock()
    app = func.FunctionApp()

    @app.route(route="slow", methods=["GET"])
    def slow(req: func.HttpRequest) -> func.HttpResponse:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return func.HttpResponse("done")

    host = DevHost(app, port=0, run_timers=False, run_queues=False)
    host.start()
    try:
        with ThreadPoolExecutor(6) as clients:
            answers = list(clients.map(lambda _: requests.get(f"{host.url}/slow", timeout=10), range(6)))
    finally:
        host.stop()
    assert [answer.text for answer in answers] == ["done"] * 6
    assert peak[0] == 2


def test_requests_beyond_max_outstanding_are_refused_with_429(monkeypatch):
    """host.json maxOutstandingRequests: the Functions host answers 429 rather than queue more."""
    monkeypatch.setenv("PYTHON_THREADPOOL_THREAD_COUNT", "2")
    running, release = [], threading.Event()
    app = func.FunctionApp()

    @app.route(route="held", methods=["GET"])
    def held(req: func.HttpRequest) -> func.HttpResponse:
        running.append(True)
        release.wait(10)
        return func.HttpResponse("done")

    host = DevHost(app, port=0, run_timers=False, run_queues=False, max_outstanding=2)
    host.start()
    try:
        with ThreadPoolExecutor(2) as clients:
            held_calls = [clients.submit(requests.get, f"{host.url}/held", timeout=10) for _ in range(2)]
            assert eventually(lambda: len(running) == 2)
            refused = requests.get(f"{host.url}/held", timeout=10)
            release.set()
            assert [call.result().text for call in held_calls] == ["done", "done"]
        assert refused.status_code == 429
        assert requests.get(f"{host.url}/held", timeout=10).text == "done"
    finally:
        release.set()
        host.stop()


def test_max_outstanding_requests_comes_from_host_json(tmp_path):
    assert max_outstanding_requests(tmp_path) is None
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"http": {"maxOutstandingRequests": 7}}}))
    assert max_outstanding_requests(tmp_path) == 7
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"http": {"maxOutstandingRequests": -1}}}))
    assert max_outstanding_requests(tmp_path) is None

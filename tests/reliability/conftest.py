"""Fixtures for the reliability tests: the app as its own process (``python -m devhost``,
what ``make run`` starts), talking to the session's Azurite through a fault proxy.

    def test_x(app, plan):          # app.url, app.kill(), app.start(), app.status()
        plan.set(Fault.BLACKHOLE)   # storage goes silent for the app (not for the test)
    def test_y(app_storage):        # shared.* in this process reads the app's tables directly

The app gets short storage timeouts (1 s, 1 retry) so each fault costs the tests little;
the bound the tests check scales with them.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from faultproxy import FaultPlan, FaultProxy
from reliability_support import AppProcess, app_settings, azurite_ports, with_ports


@pytest.fixture(scope="session")
def plan() -> FaultPlan:
    return FaultPlan()


@pytest.fixture(scope="session")
def proxied_storage(azurite: str, plan: FaultPlan) -> Iterator[str]:
    """A connection string to the session's Azurite through one fault proxy per service."""
    proxies = {name: FaultProxy(port, plan).start() for name, port in azurite_ports(azurite).items()}
    yield with_ports(azurite, {name: proxy.port for name, proxy in proxies.items()})
    for proxy in proxies.values():
        proxy.stop()


@pytest.fixture(scope="session")
def app(service, proxied_storage: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    process = AppProcess(app_settings(proxied_storage, service), tmp_path_factory.mktemp("app") / "app.log")
    process.start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def clear_faults(request) -> Iterator[None]:
    """Every test starts and ends with storage healthy."""
    yield
    if "plan" in request.fixturenames:
        request.getfixturevalue("plan").clear()


@pytest.fixture
def app_storage(app: AppProcess, monkeypatch: pytest.MonkeyPatch) -> AppProcess:
    """Point shared.* in this process at the app's tables (directly, not through the proxy)."""
    monkeypatch.setenv("FACE_STORAGE_PREFIX", app.prefix)
    return app

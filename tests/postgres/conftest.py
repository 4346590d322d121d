"""Fixtures for the PostgreSQL search engine tests: the service switched to postgres mode on the
suite's private PostgreSQL, in a fresh storage prefix; photos and their detected faceIds."""
from __future__ import annotations

import uuid

import pytest

from directory_support import Api


@pytest.fixture
def pg(service, postgres_server, monkeypatch):
    """postgres mode for this test (settings are read per call); yields the local server."""
    from shared.directory import faces, view
    from shared.postgres import connection

    monkeypatch.setenv("FACE_SEARCH_ENGINE", "postgres")
    monkeypatch.setenv("FACE_POSTGRES_URL", postgres_server.url)
    monkeypatch.setenv("FACE_STORAGE_PREFIX", "p" + uuid.uuid4().hex[:8])
    monkeypatch.setenv("FACE_ORPHAN_SWEEP_INTERVAL_SECONDS", "0")  # the reconciliation runs on every sweep
    monkeypatch.setattr(view, "_views", {})
    monkeypatch.setattr(faces, "_recorded", {})
    yield postgres_server
    connection.reset()


@pytest.fixture(scope="session")
def api(service) -> Api:
    return Api(service.url, service.admin_key)

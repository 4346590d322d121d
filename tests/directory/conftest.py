"""Directory test fixtures: plain HTTP calls on the shared devhost, an isolated storage prefix."""
from __future__ import annotations

import uuid

import pytest

from directory_support import Api


@pytest.fixture(scope="session")
def api(service) -> Api:
    return Api(service.url, service.admin_key)


@pytest.fixture
def isolated(monkeypatch):
    """A fresh storage prefix: an empty directory, and queues no listener polls."""
    monkeypatch.setenv("FACE_STORAGE_PREFIX", "d" + uuid.uuid4().hex[:8])

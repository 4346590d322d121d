"""Directory test fixtures: plain HTTP calls on the shared devhost, an isolated storage prefix."""
from __future__ import annotations

import uuid

import pytest

from directory_support import Api


@pytest.fixture(scope="session")
def api(service) -> Api:
    return Api(service.url, service.admin_key)


@pytest.fixture
def isolated(service, monkeypatch):
    """A fresh storage prefix: an empty directory, and queues no listener polls; this process's
    directory views start empty too."""
    from shared.directory import faces, view

    monkeypatch.setattr(view, "_views", {})
    monkeypatch.setattr(faces, "_recorded", {})
    monkeypatch.setenv("FACE_STORAGE_PREFIX", "d" + uuid.uuid4().hex[:8])

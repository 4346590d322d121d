"""Studio test fixtures: HTTP with the admin and the recognizer key."""
from __future__ import annotations

import pytest

from studio_support import Http


@pytest.fixture(scope="session")
def admin(service) -> Http:
    return Http(service.url, service.admin_key)


@pytest.fixture(scope="session")
def recognizer(service) -> Http:
    return Http(service.url, service.recognizer_key)

"""Fixtures for the liveness tests: plain HTTP access to the session API and client route."""
from __future__ import annotations

import pytest

from live_support import LIVE_SAMPLE, SPOOF_SAMPLES, LivenessApi, upright_jpeg


@pytest.fixture(scope="session")
def api(service) -> LivenessApi:
    return LivenessApi(service)


@pytest.fixture(scope="session")
def live_frame(privacy_probe) -> bytes:
    return privacy_probe.saw_image(upright_jpeg(LIVE_SAMPLE))


@pytest.fixture(scope="session")
def spoof_frames(privacy_probe) -> list[bytes]:
    return [privacy_probe.saw_image(upright_jpeg(path)) for path in SPOOF_SAMPLES]

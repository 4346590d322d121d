"""Per-credential rate limits (shared/api/throttle.py): token buckets, the 429 answer, and the
official SDKs' retry policies recovering from it against the running service."""
from __future__ import annotations

import io
import logging
import re
import secrets
import time

import pytest
import requests
from azure.ai.vision.face import FaceClient
from azure.cognitiveservices.vision.face import FaceClient as FaceClientV1
from azure.cognitiveservices.vision.face.models import APIErrorException
from azure.core.credentials import AzureKeyCredential
from msrest.authentication import CognitiveServicesCredentials

from shared.api.throttle import Limit, TokenBuckets
from svc_support import person_photos


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_grants_its_burst_then_tells_how_long_to_wait():
    clock = FakeClock()
    buckets = TokenBuckets(clock)
    limit = Limit(rate=2, burst=3)
    assert [buckets.take("a", limit) for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a", limit) == pytest.approx(0.5)
    assert buckets.take("b", limit) == 0  # another credential has its own bucket
    clock.now += 0.5
    assert buckets.take("a", limit) == 0
    assert buckets.take("a", limit) == pytest.approx(0.5)


def test_refused_requests_do_not_push_the_wait_further():
    clock = FakeClock()
    buckets = TokenBuckets(clock)
    limit = Limit(rate=1, burst=1)
    buckets.take("a", limit)
    waits = [buckets.take("a", limit) for _ in range(50)]
    assert max(waits) == pytest.approx(1.0)
    clock.now += 1.0
    assert buckets.take("a", limit) == 0


def test_an_unlimited_role_keeps_no_bucket():
    buckets = TokenBuckets(FakeClock())
    assert all(buckets.take(f"k{i}", Limit(rate=0, burst=0)) == 0 for i in range(100))
    assert len(buckets) == 0


def test_memory_is_bounded_refilled_buckets_are_forgotten_and_the_count_is_capped():
    clock = FakeClock()
    buckets = TokenBuckets(clock, max_buckets=100)
    limit = Limit(rate=10, burst=10)
    for i in range(1000):
        buckets.take(f"caller-{i}", limit)
    assert len(buckets) == 100  # the cap: least recently used out first
    clock.now += 1.0  # every bucket is full again
    buckets.take("late", limit)
    assert len(buckets) == 1


def _extra_key(monkeypatch: pytest.MonkeyPatch, setting: str, existing: str) -> str:
    """A new key for the role (a fresh credential, so a fresh bucket per test)."""
    key = "throttle-" + secrets.token_hex(8)
    monkeypatch.setenv(setting, f"{existing},{key}")
    return key


@pytest.fixture
def recognizer_key(service, monkeypatch) -> str:
    monkeypatch.setenv("FACE_RATE_RECOGNIZER_PER_SECOND", "1")
    monkeypatch.setenv("FACE_RATE_RECOGNIZER_BURST", "1")
    return _extra_key(monkeypatch, "FACE_RECOGNIZER_KEYS", service.recognizer_key)


@pytest.fixture
def admin_key(service, monkeypatch) -> str:
    monkeypatch.setenv("FACE_RATE_ADMIN_PER_SECOND", "1")
    monkeypatch.setenv("FACE_RATE_ADMIN_BURST", "1")
    return _extra_key(monkeypatch, "FACE_ADMIN_KEYS", service.admin_key)


@pytest.fixture
def answers(caplog) -> list[int]:
    """The status of every response the devhost sends from now on (its access log)."""
    caplog.set_level(logging.DEBUG, logger="devhost.http")

    def statuses() -> list[int]:
        lines = (record.getMessage() for record in caplog.records if record.name == "devhost.http")
        return [int(found.group(1)) for found in map(re.compile(r'" (\d{3}) ').search, lines) if found]

    return statuses


def test_over_the_limit_is_429_with_retry_after_in_azures_envelope(service, monkeypatch, recognizer_key):
    monkeypatch.setenv("FACE_RATE_RECOGNIZER_BURST", "2")
    url = f"{service.url}/face/v1.2/verify"
    body = {"faceId1": "00000000-0000-0000-0000-000000000000", "faceId2": "00000000-0000-0000-0000-000000000001"}
    first, second, third = (requests.post(url, json=body, headers={"Ocp-Apim-Subscription-Key": recognizer_key})
                            for _ in range(3))
    assert first.status_code == second.status_code == 404  # admitted (the faceIds do not exist)
    assert third.status_code == 429
    assert third.json() == {"error": {"code": "429", "message": "Rate limit is exceeded. Try again in 1 seconds."}}
    assert third.headers["Retry-After"] == "1" and third.headers["x-ms-error-code"] == "429"
    # Other credentials keep their own budget; an unauthenticated call is 401, not 429.
    other = requests.post(url, json=body, headers={"Ocp-Apim-Subscription-Key": service.admin_key})
    assert other.status_code == 404
    assert requests.post(url, json=body, headers={"Ocp-Apim-Subscription-Key": "wrong"}).status_code == 401


def test_azure_ai_vision_face_retries_429_after_retry_after(service, recognizer_key, answers, privacy_probe):
    client = FaceClient(service.url, AzureKeyCredential(recognizer_key))
    faces = [client.detect(privacy_probe.saw_image(path.read_bytes()), detection_model="detection_01",
                           recognition_model="recognition_01", return_face_id=True)[0]
             for path in person_photos("obama")[:2]]
    result = client.verify_face_to_face(face_id1=faces[0].face_id, face_id2=faces[1].face_id)
    assert result.is_identical
    assert answers().count(429) >= 2  # the second detect and the verify were each refused, then retried


def test_the_v1_sdk_retries_429_on_get_put_and_delete(service, admin_key, answers):
    client = FaceClientV1(service.url, CognitiveServicesCredentials(admin_key))
    groups = ["throttle-" + secrets.token_hex(4) for _ in range(2)]
    for group in groups:
        client.person_group.create(group, name="throttled")
    try:
        assert [client.person_group.get(group).name for group in groups] == ["throttled"] * 2
    finally:
        for group in groups:
            client.person_group.delete(group)
    assert answers().count(429) >= 5  # every call after the first was refused once, then retried


def test_the_v1_sdk_leaves_a_refused_post_or_patch_to_the_caller(service, admin_key, privacy_probe):
    """msrest asks urllib3 to retry every method through ``method_whitelist``, which urllib3 2
    no longer reads, so POST and PATCH are not retried: the 429 reaches the application as
    APIErrorException with Retry-After, and the call succeeds once that time has passed."""
    client = FaceClientV1(service.url, CognitiveServicesCredentials(admin_key))
    image = privacy_probe.saw_image(person_photos("obama")[0].read_bytes())
    client.face.detect_with_stream(io.BytesIO(image))
    with pytest.raises(APIErrorException) as refused:
        client.face.detect_with_stream(io.BytesIO(image))
    assert refused.value.response.status_code == 429 and refused.value.error.error.code == "429"
    time.sleep(int(refused.value.response.headers["Retry-After"]))
    assert len(client.face.detect_with_stream(io.BytesIO(image))) == 1


def test_retry_errors_survive_a_process_boundary():
    """503 and 429 keep class, message, code and Retry-After through pickling (a process
    pool's worker raising one, as the enrolment benchmark's do, must not break the pool)."""
    import pickle

    from shared.errors import ServiceUnavailable, TooManyRequests

    for error in (ServiceUnavailable("PostgreSQL unavailable", 2.0), TooManyRequests("slow down", 1.5)):
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), copy.message, copy.retry_after, copy.code, copy.headers()) == (
            type(error), error.message, error.retry_after, error.code, error.headers())

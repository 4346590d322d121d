"""GET /operations/{operationId}: each version's shape, 404s, expiry after the retention time
(refused at once, then swept), and no such route in v1.2 GA."""
from __future__ import annotations

import pytest

from directory_support import error_code


@pytest.fixture
def operation():
    from shared.operations import store

    return store.start("createPerson", "persons/00000000-0000-4000-8000-000000000001")


def test_v1_1_and_v1_2_preview_shape(api, operation):
    from shared.operations import store

    for version in ("v1.1-preview.1", "v1.2-preview.1"):
        running = api("GET", f"operations/{operation.operation_id}", version=version)
        assert running.status_code == 200 and running.headers["Retry-After"] == "1"
        assert set(running.json()) == {"operationId", "status", "createdTime", "lastActionTime"}
        assert running.json()["status"] == "running" and running.json()["operationId"] == operation.operation_id
    store.advance(operation.operation_id, "failed", "It went wrong.")
    store.advance(operation.operation_id, "succeeded")  # a finished operation never changes again
    failed = api("GET", f"operations/{operation.operation_id}").json()
    assert failed["status"] == "failed" and failed["message"] == "It went wrong." and "finishedTime" in failed
    assert "Retry-After" not in api("GET", f"operations/{operation.operation_id}").headers


def test_v1_0_shape(api):
    from shared.operations import store

    waiting = store.start("train", "largepersongroups/x/training", status="notStarted")
    body = api("GET", f"operations/{waiting.operation_id}", version="v1.0").json()
    assert body == {"status": "notstarted", "createdTime": waiting.created, "lastActionTime": waiting.created,
                    "resourceLocation": "/largepersongroups/x/training"}


def test_unknown_malformed_and_ga(api, operation):
    for path in ("operations/00000000-0000-4000-8000-000000000000", "operations/not-an-id"):
        response = api("GET", path)
        assert response.status_code == 404 and error_code(response) == "OperationNotFound"
    assert api("GET", f"operations/{operation.operation_id}", version="v1.2").status_code == 404


def test_expired_operations_are_refused_at_once_then_swept(api, operation, clock):
    from shared.operations import store

    assert api("GET", f"operations/{operation.operation_id}").status_code == 200
    clock.advance(48 * 3600 + 1)  # FACE_OPERATION_RETENTION_HOURS
    assert error_code(api("GET", f"operations/{operation.operation_id}")) == "OperationNotFound"
    assert store.table().get(operation.operation_id[:2], operation.operation_id) is not None
    assert store.sweep_expired() >= 1
    assert store.table().get(operation.operation_id[:2], operation.operation_id) is None

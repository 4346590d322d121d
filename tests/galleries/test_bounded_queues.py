"""Bounded work queues (shared/storage/queues.WorkQueue): a full queue refuses new work with 429
and Retry-After before anything is written, and a refused train request leaves no half-state."""
from __future__ import annotations

import pytest

from gallery_support import drain_training, photos
from shared.errors import TooManyRequests
from shared.storage.queues import FULL_RETRY_AFTER_SECONDS, WorkQueue, queue_client


@pytest.fixture
def trained_list(call, gallery_id, isolated) -> tuple[str, dict]:
    """A LargeFaceList trained once (no listener polls the isolated queue); its training status."""
    call("PUT", f"/largefacelists/{gallery_id}", json={"name": "x"})
    call("POST", f"/largefacelists/{gallery_id}/persistedfaces", data=photos("obama")[0].read_bytes(),
         content_type="application/octet-stream")
    assert call("POST", f"/largefacelists/{gallery_id}/train").status_code == 202
    drain_training()
    status = call("GET", f"/largefacelists/{gallery_id}/training").json()
    assert status["status"] == "succeeded"
    return gallery_id, status


def _generation(list_id: str) -> int:
    from shared.galleries import repository
    from shared.galleries.kinds import LARGE_FACE_LIST

    return repository.get_container(LARGE_FACE_LIST, list_id).generation


def test_a_full_queue_refuses_a_send_and_keeps_what_it_holds(service, isolated, monkeypatch):
    monkeypatch.setenv("FACE_QUEUE_MAX_MESSAGES", "2")
    queue = WorkQueue("bounded")
    queue.send({"n": 1})
    queue.send({"n": 2})
    with pytest.raises(TooManyRequests) as refused:
        queue.send({"n": 3})
    assert refused.value.retry_after == FULL_RETRY_AFTER_SECONDS
    assert queue_client(queue.name).get_queue_properties().approximate_message_count == 2


def test_train_on_a_full_queue_is_429_and_writes_nothing(call, trained_list, monkeypatch):
    list_id, status = trained_list
    monkeypatch.setenv("FACE_QUEUE_MAX_MESSAGES", "1")
    call("PUT", "/largefacelists/other", json={"name": "other"})
    call("POST", "/largefacelists/other/persistedfaces", data=photos("obama")[1].read_bytes(),
         content_type="application/octet-stream")
    assert call("POST", "/largefacelists/other/train").status_code == 202  # the queue is now full
    generation = _generation(list_id)
    refused = call("POST", f"/largefacelists/{list_id}/train")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "429"
    assert refused.headers["Retry-After"] == str(FULL_RETRY_AFTER_SECONDS)
    assert call("GET", f"/largefacelists/{list_id}/training").json() == status
    assert _generation(list_id) == generation
    drain_training()
    assert call("POST", f"/largefacelists/{list_id}/train").status_code == 202
    drain_training()
    assert call("GET", f"/largefacelists/{list_id}/training").json()["status"] == "succeeded"


def test_a_queue_that_fills_between_check_and_send_restores_the_training_state(call, trained_list,
                                                                               monkeypatch):
    list_id, status = trained_list

    def full(self, message):
        raise TooManyRequests("Too many requests are waiting to be processed.", retry_after=30)

    with monkeypatch.context() as patch:
        patch.setattr(WorkQueue, "send", full)
        assert call("POST", f"/largefacelists/{list_id}/train").status_code == 429
    assert call("GET", f"/largefacelists/{list_id}/training").json() == status
    assert call("POST", f"/largefacelists/{list_id}/train").status_code == 202
    drain_training()
    assert call("GET", f"/largefacelists/{list_id}/training").json()["status"] == "succeeded"

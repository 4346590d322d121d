"""Wire details the SDKs depend on: status codes, error codes, headers, per-version shapes."""
from __future__ import annotations

import pytest
import requests

from gallery_support import drain_training, photos


def _error(response) -> str:
    return response.json()["error"]["code"]


@pytest.mark.parametrize("body, code", [
    ({}, "BadArgument"),
    ({"name": ""}, "BadArgument"),
    ({"name": "n" * 129}, "BadArgument"),
    ({"name": "ok", "userData": "u" * 16385}, "BadArgument"),
    ({"name": "ok", "recognitionModel": "recognition_09"}, "BadArgument"),
])
def test_create_validation(call, gallery_id, body, code):
    response = call("PUT", f"/largepersongroups/{gallery_id}", json=body)
    assert response.status_code == 400 and _error(response) == code


def test_bad_ids_and_paging(call, gallery_id):
    assert call("PUT", "/persongroups/Bad_Id", json={"name": "x"}).status_code == 400
    assert call("PUT", f"/persongroups/{'x' * 65}", json={"name": "x"}).status_code == 400
    assert _error(call("GET", "/persongroups?top=0")) == "BadArgument"
    assert _error(call("GET", "/persongroups?top=1001")) == "BadArgument"
    assert _error(call("GET", f"/persongroups?start={'a' * 65}")) == "BadArgument"
    call("PUT", f"/persongroups/{gallery_id}", json={"name": "x"})
    missing = call("GET", f"/persongroups/{gallery_id}/persons/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and _error(missing) == "PersonNotFound"
    assert _error(call("GET", f"/persongroups/{gallery_id}/persons/not-a-uuid")) == "PersonNotFound"


def test_success_codes_and_empty_bodies(call, gallery_id):
    for method, body in (("PUT", {"name": "x"}), ("PATCH", {"name": "y"}), ("DELETE", None)):
        response = call(method, f"/largefacelists/{gallery_id}", json=body)
        assert response.status_code == 200 and response.content == b""


def test_face_user_data_limit(call, gallery_id):
    call("PUT", f"/largefacelists/{gallery_id}", json={"name": "x"})
    image = photos("obama")[0].read_bytes()
    too_long = call("POST", f"/largefacelists/{gallery_id}/persistedfaces?userData={'u' * 1025}", data=image,
                    content_type="application/octet-stream")
    assert too_long.status_code == 400 and _error(too_long) == "BadArgument"
    bad_target = call("POST", f"/largefacelists/{gallery_id}/persistedfaces?targetFace=1,2,3", data=image,
                      content_type="application/octet-stream")
    assert bad_target.status_code == 400 and _error(bad_target) == "BadArgument"


@pytest.mark.parametrize("version, polled", [("v1.0", None), ("v1.1-preview.1", "operations"),
                                             ("v1.2-preview.1", "operations"), ("v1.2", "training")])
def test_train_202_and_status_per_version(call, gallery_id, isolated, version, polled):
    """operation-Location leads to GET /operations/{id} where the version has that route (the
    previews), else to the training status; both settle with the training."""
    call("PUT", f"/largefacelists/{gallery_id}", json={"name": "x"}, version=version)
    never = call("GET", f"/largefacelists/{gallery_id}/training", version=version).json()
    assert never["status"] == ("notstarted" if version == "v1.0" else "notStarted")
    call("POST", f"/largefacelists/{gallery_id}/persistedfaces", data=photos("obama")[0].read_bytes(),
         content_type="application/octet-stream", version=version)
    train = call("POST", f"/largefacelists/{gallery_id}/train", version=version)
    assert train.status_code == 202 and train.content == b""
    location = train.headers.get("operation-Location")
    assert (location is not None) == (polled is not None)
    if polled == "training":
        assert location.endswith(f"/face/{version}/largefacelists/{gallery_id}/training")
    if polled == "operations":
        assert f"/face/{version}/operations/" in location
        pending = requests.get(location, headers={"Ocp-Apim-Subscription-Key": call.admin_key}, timeout=60)
        assert pending.json()["status"] == "notStarted" and pending.headers["Retry-After"] == "1"
    again = call("POST", f"/largefacelists/{gallery_id}/train", version=version)
    assert again.status_code == 409 and _error(again) == "LargeFaceListTrainingNotFinished"
    drain_training()
    status = call("GET", f"/largefacelists/{gallery_id}/training", version=version).json()
    assert status["status"] == "succeeded"
    assert {"createdDateTime", "lastActionDateTime", "lastSuccessfulTrainingDateTime"} <= set(status)
    if location:
        polled_status = requests.get(location, headers={"Ocp-Apim-Subscription-Key": call.admin_key}, timeout=60)
        assert polled_status.json()["status"] == "succeeded"


def test_empty_container_training_fails(call, gallery_id, isolated):
    call("PUT", f"/largepersongroups/{gallery_id}", json={"name": "x"})
    call("POST", f"/largepersongroups/{gallery_id}/train")
    drain_training()
    status = call("GET", f"/largepersongroups/{gallery_id}/training").json()
    assert status["status"] == "failed" and status["message"]


def test_deleted_container_drops_queued_work_and_snapshots(call, gallery_id, isolated):
    from shared.galleries import snapshots

    call("PUT", f"/largefacelists/{gallery_id}", json={"name": "x"})
    call("POST", f"/largefacelists/{gallery_id}/persistedfaces", data=photos("obama")[0].read_bytes(),
         content_type="application/octet-stream")
    call("POST", f"/largefacelists/{gallery_id}/train")
    drain_training()
    assert list(snapshots.store().names(f"largefacelist/{gallery_id}/"))
    call("POST", f"/largefacelists/{gallery_id}/persistedfaces", data=photos("obama")[1].read_bytes(),
         content_type="application/octet-stream")
    call("POST", f"/largefacelists/{gallery_id}/train")
    assert call("DELETE", f"/largefacelists/{gallery_id}").status_code == 200
    call("PUT", f"/largefacelists/{gallery_id}", json={"name": "again"})
    assert drain_training() == 1  # the queued message is consumed and ignored
    assert call("GET", f"/largefacelists/{gallery_id}/training").json()["status"] == "notStarted"
    assert not list(snapshots.store().names(f"largefacelist/{gallery_id}/"))


def test_training_abandoned_by_a_dead_worker_can_be_restarted(call, gallery_id, isolated, clock, monkeypatch):
    monkeypatch.setenv("FACE_TRAINING_TIMEOUT_SECONDS", "600")
    call("PUT", f"/persongroups/{gallery_id}", json={"name": "x"})
    assert call("POST", f"/persongroups/{gallery_id}/train").status_code == 202
    assert call("POST", f"/persongroups/{gallery_id}/train").status_code == 409
    clock.advance(601)
    assert call("POST", f"/persongroups/{gallery_id}/train").status_code == 202
    assert drain_training() == 2  # the first message is superseded, the second trains
    status = call("GET", f"/persongroups/{gallery_id}/training").json()
    assert status["status"] == "failed"  # an empty group cannot be trained


@pytest.mark.parametrize("target", [{}, {"personGroupId": "a", "largePersonGroupId": "b"}, {"personGroupId": "Bad"}])
def test_identify_needs_exactly_one_valid_target(call, target):
    response = call("POST", "/identify", json={"faceIds": ["00000000-0000-0000-0000-000000000001"], **target})
    assert response.status_code == 400 and _error(response) == "BadArgument"


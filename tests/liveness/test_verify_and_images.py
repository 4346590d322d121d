"""Liveness with verify (both create forms) and session images (stored encrypted only when
asked for, readable through both image routes and detect, gone with the session)."""
from __future__ import annotations

import hashlib

import requests
from azure.storage.blob import BlobServiceClient

from live_support import GA, PERSONS_DIR, PREVIEW, SHARED_DIR, upright_jpeg

IMAGE_CONTAINER_SUFFIX = "-livenessimages"


def _person(name: str, index: int, privacy_probe) -> bytes:
    image = sorted((PERSONS_DIR / name).glob("*.jpg"))[index].read_bytes()
    return privacy_probe.saw_image(image, "detection_03", "recognition_04")


def _blobs(service) -> dict[str, bytes]:
    client = BlobServiceClient.from_connection_string(service.connection_string)
    container = client.get_container_client(service.storage_prefix + IMAGE_CONTAINER_SUFFIX)
    if not container.exists():
        return {}
    return {blob.name: container.download_blob(blob.name).readall() for blob in container.list_blobs()}


def test_ga_verify_matches_the_same_person_and_not_another(api, privacy_probe):
    verify_image = _person("obama", 0, privacy_probe)
    created = api.create_with_verify(verify_image, returnVerifyImageHash=True, verifyConfidenceThreshold=0.4,
                                     sendResultsToClient=True)
    assert created.status_code == 200, created.text
    session = created.json()
    (reference,) = session["results"]["verifyReferences"]
    assert reference["referenceType"] == "Color" and reference["qualityForRecognition"] in ("low", "medium", "high")
    same = privacy_probe.saw_image(upright_jpeg(sorted((PERSONS_DIR / "obama").glob("*.jpg"))[1]))
    other = privacy_probe.saw_image(upright_jpeg(sorted((PERSONS_DIR / "kit_harington").glob("*.jpg"))[0]))
    first = api.attempt(session["authToken"], [same], verify=True).json()
    second = api.attempt(session["authToken"], [other], verify=True).json()
    assert first["verifyResult"]["isIdentical"] and not second["verifyResult"]["isIdentical"]
    read = api.session(f"detectLivenessWithVerify-sessions/{session['sessionId']}").json()
    results = [attempt["result"] for attempt in read["results"]["attempts"]]
    assert [r["verifyResult"]["isIdentical"] for r in results] == [True, False]
    assert all(r["verifyImageHash"] == hashlib.sha256(verify_image).hexdigest() for r in results)
    assert 0.0 <= results[1]["verifyResult"]["matchConfidence"] < 0.4 <= results[0]["verifyResult"]["matchConfidence"]


def test_preview_verify_create_and_audit(api, privacy_probe):
    verify_image = _person("obama", 2, privacy_probe)
    created = api.create_with_verify(verify_image, version=PREVIEW)
    assert created.status_code == 200, created.text
    assert set(created.json()) == {"sessionId", "authToken", "verifyImage"}
    same = privacy_probe.saw_image(upright_jpeg(sorted((PERSONS_DIR / "obama").glob("*.jpg"))[0]))
    api.attempt(created.json()["authToken"], [same], verify=True, version=PREVIEW)
    path = f"detectLivenessWithVerify/singleModal/sessions/{created.json()['sessionId']}"
    (entry,) = api.session(path + "/audit", version=PREVIEW).json()
    assert entry["response"]["body"]["verifyResult"]["isIdentical"] is True
    assert "verifyImageHash" not in entry  # returnVerifyImageHash was not asked for


def test_verify_image_must_show_exactly_one_face(api, privacy_probe):
    for folder in ("noface", "multi"):
        image = privacy_probe.saw_image(sorted((SHARED_DIR / "data/faces" / folder).glob("*.jpg"))[0].read_bytes(),
                                        "detection_03", "recognition_04")
        answer = api.create_with_verify(image)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "InvalidImage", answer.text
    assert api.create_with_verify(b"not an image" * 200).json()["error"]["code"] == "InvalidImage"


def test_verify_create_field_validation(api, privacy_probe):
    image = _person("obama", 0, privacy_probe)
    assert api.create_with_verify(image, verifyConfidenceThreshold=1.5).status_code == 400
    assert api.create_with_verify(image, returnVerifyImageHash="maybe").status_code == 400
    missing = requests.post(f"{api.url}/face/{GA}/detectLivenessWithVerify-sessions", timeout=60,
                            headers={"Ocp-Apim-Subscription-Key": api.key}, json={"livenessOperationMode": "Passive"})
    assert missing.status_code == 415


def test_no_session_image_is_stored_unless_asked(service, api, live_frame):
    before = _blobs(service)
    session = api.create().json()
    api.attempt(session["authToken"], [live_frame])
    (attempt,) = api.session(f"detectLiveness-sessions/{session['sessionId']}").json()["results"]["attempts"]
    assert "sessionImageId" not in attempt["result"]
    assert _blobs(service).keys() == before.keys()


def test_session_image_is_encrypted_readable_and_deleted_with_its_session(service, api, live_frame, privacy_probe):
    session = api.create(enableSessionImage=True).json()
    api.attempt(session["authToken"], [live_frame])
    (attempt,) = api.session(f"detectLiveness-sessions/{session['sessionId']}").json()["results"]["attempts"]
    image_id = attempt["result"]["sessionImageId"]

    stored = {name: data for name, data in _blobs(service).items() if name.startswith(session["sessionId"])}
    assert list(stored) == [f"{session['sessionId']}/{image_id}"]
    assert live_frame[100:148] not in next(iter(stored.values()))  # only ciphertext is stored

    image = api.session(f"sessionImages/{image_id}")
    assert image.status_code == 200 and image.content == live_frame
    assert image.headers["Content-Type"] == "application/octet-stream"
    assert api.session(f"session/sessionImages/{image_id}", version=PREVIEW).content == live_frame
    detected = requests.post(f"{api.url}/face/{GA}/detect", json={"sessionImageId": image_id}, timeout=60,
                             params={"returnFaceId": "false"}, headers={"Ocp-Apim-Subscription-Key": api.key})
    assert detected.status_code == 200 and len(detected.json()) == 1
    old = requests.post(f"{api.url}/face/v1.0/detect", json={"sessionImageId": image_id}, timeout=60,
                        headers={"Ocp-Apim-Subscription-Key": api.key})
    assert old.status_code == 400  # v1.0 has no detect from a session image

    api.session(f"detectLiveness-sessions/{session['sessionId']}", "DELETE")
    assert not [name for name in _blobs(service) if name.startswith(session["sessionId"])]
    for path, version in ((f"sessionImages/{image_id}", GA), (f"session/sessionImages/{image_id}", PREVIEW)):
        gone = api.session(path, version=version)
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "SessionImageNotFound"
    assert api.session("sessionImages/not-an-id").status_code == 404
    after = requests.post(f"{api.url}/face/{GA}/detect", json={"sessionImageId": image_id}, timeout=60,
                          headers={"Ocp-Apim-Subscription-Key": api.key})
    assert after.status_code == 404 and after.json()["error"]["code"] == "SessionImageNotFound"

"""The official clients against the local service: azure-ai-vision-face 1.0.0b2's
FaceSessionClient (v1.2-preview.1 routes) and the JS REST client 1.0.0-beta.3 (v1.2 routes,
under node). The device part (the client route) is a plain HTTP call in both: no SDK has it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from azure.ai.vision.face import FaceSessionClient
from azure.ai.vision.face.models import (
    CreateLivenessSessionContent,
    CreateLivenessWithVerifySessionContent,
    FaceDetectionModel,
    LivenessOperationMode,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ResourceNotFoundError

from live_support import LIVE_SAMPLE, PERSONS_DIR, REPO_ROOT, upright_jpeg

JS_FLOW = Path(__file__).with_name("js_session_flow.js")


@pytest.fixture(scope="module")
def session_client(service) -> FaceSessionClient:
    return FaceSessionClient(service.url, AzureKeyCredential(service.recognizer_key))


def test_python_session_client_end_to_end(session_client, api, live_frame):
    created = session_client.create_liveness_session(CreateLivenessSessionContent(
        liveness_operation_mode=LivenessOperationMode.PASSIVE, device_correlation_id=str(uuid.uuid4()),
        enable_session_image=True, send_results_to_client=False, auth_token_time_to_live_in_seconds=120))
    assert api.attempt(created.auth_token, [live_frame], version="v1.2-preview.1").status_code == 200

    session = session_client.get_liveness_session_result(created.session_id)
    assert session.status == "ResultAvailable" and session.auth_token_time_to_live_in_seconds == 120
    assert session.result.response.body.liveness_decision == "realface"
    assert created.session_id in [item.id for item in session_client.get_liveness_sessions(top=1000)]
    (entry,) = session_client.get_liveness_session_audit_entries(created.session_id)
    assert entry.digest == session.result.digest and entry.response.status_code == 200

    image = b"".join(session_client.get_session_image(entry.session_image_id))
    assert image == live_frame
    faces = session_client.detect_from_session_image(session_image_id=entry.session_image_id,
                                                     detection_model=FaceDetectionModel.DETECTION03,
                                                     return_face_id=False)
    assert len(faces) == 1

    session_client.delete_liveness_session(created.session_id)  # the SDK insists on 200
    with pytest.raises(ResourceNotFoundError):
        session_client.get_liveness_session_result(created.session_id)


def test_python_session_client_with_verify(session_client, api, privacy_probe):
    photos = sorted((PERSONS_DIR / "obama").glob("*.jpg"))
    verify_image = privacy_probe.saw_image(photos[0].read_bytes(), "detection_03", "recognition_04")
    created = session_client.create_liveness_with_verify_session(
        CreateLivenessWithVerifySessionContent(liveness_operation_mode=LivenessOperationMode.PASSIVE,
                                               device_correlation_id=str(uuid.uuid4()),
                                               return_verify_image_hash=True),
        verify_image=verify_image)
    assert created.verify_image.quality_for_recognition in ("low", "medium", "high")
    frame = privacy_probe.saw_image(upright_jpeg(photos[1]))
    assert api.attempt(created.auth_token, [frame], verify=True, version="v1.2-preview.1").status_code == 200
    session = session_client.get_liveness_with_verify_session_result(created.session_id)
    assert session.result.response.body.verify_result.is_identical is True
    assert session.result.verify_image_hash
    assert [item.id for item in session_client.get_liveness_with_verify_sessions(start=created.session_id[:-1])]
    assert len(session_client.get_liveness_with_verify_session_audit_entries(created.session_id, top=1)) == 1
    session_client.delete_liveness_with_verify_session(created.session_id)


def test_js_rest_client_end_to_end(service, privacy_probe, tmp_path):
    node = shutil.which("node")
    assert node, "node is required (make setup installs the npm clients)"
    frame_path, verify_path = tmp_path / "frame.jpg", tmp_path / "verify.jpg"
    frame_path.write_bytes(privacy_probe.saw_image(upright_jpeg(LIVE_SAMPLE)))
    photo = sorted((PERSONS_DIR / "obama").glob("*.jpg"))[0].read_bytes()
    verify_path.write_bytes(privacy_probe.saw_image(photo, "detection_03", "recognition_04"))
    env = {**os.environ, "FACE_ENDPOINT": service.url, "FACE_KEY": service.recognizer_key,
           "FRAME_PATH": str(frame_path), "VERIFY_PATH": str(verify_path)}
    run = subprocess.run([node, str(JS_FLOW)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["create"]["status"] == "200" and out["create"]["body"]["results"] == {"attempts": []}
    assert out["attempt"]["status"] == 200
    (attempt,) = out["get"]["body"]["results"]["attempts"]
    assert attempt["result"]["livenessDecision"] == "realface"
    assert attempt["result"]["digest"] == out["attempt"]["body"]["digest"]
    assert out["sessionImage"] == {"status": "200", "equalsFrame": True}
    assert out["detect"] == {"status": "200", "faces": 1}
    assert out["createWithVerify"]["status"] == "200"
    assert out["createWithVerify"]["body"]["results"]["verifyReferences"][0]["referenceType"] == "Color"
    verified = out["getWithVerify"]["body"]["results"]["attempts"][0]["result"]
    assert "isIdentical" in verified["verifyResult"] and verified["verifyImageHash"]
    assert out["delete"] == {"status": "204", "verifyStatus": "204", "after": "404", "afterCode": "SessionNotFound",
                             "imageAfter": "404"}

"""Helpers for the liveness tests (a plain module: conftest files are not importable)."""
from __future__ import annotations

import json
import os
import secrets
import uuid
from pathlib import Path

import cv2
import numpy as np
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared")
LIVENESS_DIR = SHARED_DIR / "data" / "liveness"
PERSONS_DIR = SHARED_DIR / "data" / "faces" / "persons"
LIVE_SAMPLE = LIVENESS_DIR / "live" / "image_T1.jpg"
SPOOF_SAMPLES = sorted((LIVENESS_DIR / "spoof").glob("*.jpg"))
GA, PREVIEW = "v1.2", "v1.2-preview.1"
V1_3 = "v1.3-preview.1"
GA_ROUTES = (GA, V1_3)  # versions whose sessions live at detectLiveness[WithVerify]-sessions


def upright_jpeg(path: Path, mirrored: bool = False) -> bytes:
    """The photo decoded upright (EXIF applied), optionally mirrored, as a JPEG frame such as
    a browser would capture."""
    from shared.engine.imaging import decode_image

    image = decode_image(path.read_bytes())
    if mirrored:
        image = np.ascontiguousarray(image[:, ::-1])
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return encoded.tobytes()


def form(parts: list[tuple[str, str | None, str, bytes]], boundary: str | None = None) -> tuple[bytes, str]:
    """(body, content type) of a multipart/form-data body; parts are (name, filename, type, data)."""
    boundary = boundary or "----face" + secrets.token_hex(12)
    chunks = []
    for name, filename, content_type, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n"
                      .encode() + data + b"\r\n")
    return b"".join(chunks) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def frames_form(frames: list[bytes], metadata: dict | None = None) -> tuple[bytes, str]:
    parts = [("metadata", None, "application/json", json.dumps(metadata or {}).encode())]
    parts += [("frame", f"frame-{index}.jpg", "image/jpeg", frame) for index, frame in enumerate(frames)]
    return form(parts)


class LivenessApi:
    """Plain HTTP calls to the session API and the client route."""

    def __init__(self, service, key: str | None = None):
        self.url = service.url
        self.key = key or service.recognizer_key
        self.tokens: set[str] = set()  # every token handed out, for the privacy scan

    def _seen(self, response: requests.Response) -> requests.Response:
        if response.ok and "json" in response.headers.get("Content-Type", ""):
            body = response.json()
            if isinstance(body, dict) and body.get("authToken"):
                self.tokens.add(body["authToken"])
        return response

    def _headers(self, extra: dict | None = None) -> dict:
        return {"Ocp-Apim-Subscription-Key": self.key, **(extra or {})}

    def create(self, version: str = GA, **fields) -> requests.Response:
        body = {"livenessOperationMode": "Passive", "deviceCorrelationId": str(uuid.uuid4()), **fields}
        body = {name: value for name, value in body.items() if value is not None}
        path = "detectLiveness-sessions" if version in GA_ROUTES else "detectLiveness/singleModal/sessions"
        return self._seen(requests.post(f"{self.url}/face/{version}/{path}", json=body, headers=self._headers(),
                                        timeout=60))

    def create_with_verify(self, verify_image: bytes, version: str = GA, **fields) -> requests.Response:
        values = {"livenessOperationMode": "Passive", "deviceCorrelationId": str(uuid.uuid4()), **fields}
        values = {name: value for name, value in values.items() if value is not None}
        if version in GA_ROUTES:
            parts = [(name, None, "text/plain", json.dumps(value).strip('"').encode()) for name, value in values.items()]
            parts.append(("verifyImage", "verify.jpg", "application/octet-stream", verify_image))
            path = "detectLivenessWithVerify-sessions"
        else:
            parts = [("Parameters", None, "application/json", json.dumps(values).encode()),
                     ("VerifyImage", "verify-image", "application/octet-stream", verify_image)]
            path = "detectLivenessWithVerify/singleModal/sessions"
        body, content_type = form(parts)
        return self._seen(requests.post(f"{self.url}/face/{version}/{path}", data=body,
                                        headers=self._headers({"Content-Type": content_type}), timeout=60))

    def session(self, path: str, method: str = "GET", version: str = GA, **params) -> requests.Response:
        return self._seen(requests.request(method, f"{self.url}/face/{version}/{path}", params=params,
                                           headers=self._headers(), timeout=60))

    def attempt(self, token: str, frames: list[bytes], metadata: dict | None = None, verify: bool = False,
                version: str = GA) -> requests.Response:
        body, content_type = frames_form(frames, metadata)
        return self.post_client(token, body, content_type, verify, version)

    def post_client(self, token: str, body: bytes, content_type: str, verify: bool = False,
                    version: str = GA) -> requests.Response:
        route = "detectLivenessWithVerify/singleModal" if verify else "detectLiveness/singleModal"
        return requests.post(f"{self.url}/face/{version}/{route}", data=body, timeout=120,
                             headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})

    def client_info(self, token: str, verify: bool = False, version: str = GA) -> requests.Response:
        route = "detectLivenessWithVerify/singleModal" if verify else "detectLiveness/singleModal"
        return requests.get(f"{self.url}/face/{version}/{route}", headers={"Authorization": f"Bearer {token}"},
                            timeout=60)

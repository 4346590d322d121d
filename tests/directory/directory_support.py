"""Plain helpers for the directory tests (kept out of conftest.py so modules can import them)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import requests

SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared")
PERSONS_DIR = SHARED_DIR / "data" / "faces" / "persons"
PREVIEW = "v1.1-preview.1"


def photos(person: str) -> list[Path]:
    return sorted((PERSONS_DIR / person).glob("*.jpg"))


def people() -> list[str]:
    return sorted(path.name for path in PERSONS_DIR.iterdir() if path.is_dir())


class Api:
    """Plain HTTP calls to the service with the admin key (or another key)."""

    def __init__(self, url: str, key: str, version: str = PREVIEW):
        self.url, self.key, self.version = url, key, version

    def __call__(self, method: str, path: str, json_body=None, data: bytes | None = None, version: str | None = None,
                 key: str | None = None) -> requests.Response:
        headers = {"Ocp-Apim-Subscription-Key": key or self.key}
        if data is not None:
            headers["Content-Type"] = "application/octet-stream"
        return requests.request(method, f"{self.url}/face/{version or self.version}/{path}", json=json_body,
                                data=data, headers=headers, timeout=120)

    def finished(self, response: requests.Response, timeout: float = 30.0) -> dict:
        """Poll the Operation-Location of a 202 until the operation settles; its final status."""
        assert response.status_code == 202, response.text
        location = response.headers["Operation-Location"]
        deadline = time.monotonic() + timeout
        while True:
            status = requests.get(location, headers={"Ocp-Apim-Subscription-Key": self.key}, timeout=60).json()
            if status["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
                return status
            time.sleep(0.2)

    def detect(self, image: bytes, model: str = "recognition_04") -> str:
        response = self("POST", f"detect?recognitionModel={model}&detectionModel=detection_03&returnFaceId=true",
                        data=image, version="v1.2")
        assert response.status_code == 200, response.text
        return response.json()[0]["faceId"]


def error_code(response: requests.Response) -> str:
    return response.json()["error"]["code"]


def drain(queue_base: str, run) -> int:
    """Run ``run`` on every message of a queue (for tests whose storage prefix no listener polls)."""
    from shared.storage.naming import queue_name
    from shared.storage.queues import queue_client

    queue, handled = queue_client(queue_name(queue_base)), 0
    for message in queue.receive_messages(max_messages=32):
        run(json.loads(bytes(message.content).decode("utf-8")))
        queue.delete_message(message)
        handled += 1
    return handled

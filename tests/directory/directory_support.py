"""Plain helpers for the directory tests (kept out of conftest.py so modules can import them)."""
from __future__ import annotations

import time

import requests

PREVIEW = "v1.1-preview.1"


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

"""Plain helpers for the studio tests: HTTP calls with a key, enrolment of the shared photos."""
from __future__ import annotations

import os
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared")
PERSONS_DIR = SHARED_DIR / "data" / "faces" / "persons"


def photos(person: str) -> list[Path]:
    return sorted((PERSONS_DIR / person).glob("*.jpg"))


class Http:
    """``http.call("PUT", "/face/v1.2/persongroups/x", json=...)`` with one key."""

    def __init__(self, url: str, key: str | None):
        self.url, self.key = url, key

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.key is not None:
            headers["Ocp-Apim-Subscription-Key"] = self.key
        return requests.request(method, self.url + path, headers=headers, timeout=120, **kwargs)

    def ok(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.call(method, path, **kwargs)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response

    def image(self, path: str, photo: Path) -> requests.Response:
        return self.ok("POST", path, data=photo.read_bytes(), headers={"Content-Type": "application/octet-stream"})

    def trained(self, container: str, seconds: float = 120) -> dict:
        """Train ``/face/v1.2/<container>`` and wait until its training settles."""
        self.ok("POST", f"/face/v1.2/{container}/train")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status = self.ok("GET", f"/face/v1.2/{container}/training").json()
            if status["status"] in ("succeeded", "failed"):
                assert status["status"] == "succeeded", status
                return status
            time.sleep(0.3)
        raise AssertionError(f"{container} still training after {seconds} s")

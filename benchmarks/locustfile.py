"""Locust users for `make bench-load` (benchmarks/bench_load.py starts locust with this file).

Each user is one SDK-like client on its own keep-alive connection: it sends the next request
as soon as the last one answered (no think time), with the headers, routes and bodies the
official clients send. ``FaceClientUser`` mixes detect (with faceIds) 50%, verify 20%,
identify against the benchmark's LargePersonGroup 20% and find-similar 10%, using faceIds
from its own recent detects, as an application would. ``DetectUser`` only detects (the same
photos, returnFaceId=true): the HTTP detect path that bench_load.py compares with the
engine's in-process throughput.

Configuration comes from environment variables set by bench_load.py: LOAD_KEY (subscription
key), LOAD_PHOTOS (os.pathsep-separated photo paths), LOAD_GROUP (LargePersonGroup id),
LOAD_API_VERSION, BENCH_RECOGNITION_MODEL (default recognition_01). Every non-2xx answer is
a failure named ``status <code>``.
"""
from __future__ import annotations

import json
import os
import random
from collections import deque
from pathlib import Path

from locust import FastHttpUser, constant, task
from locust.exception import StopUser

KEY = os.environ.get("LOAD_KEY", "")
PHOTOS = [Path(path).read_bytes() for path in filter(None, os.environ.get("LOAD_PHOTOS", "").split(os.pathsep))]
GROUP = os.environ.get("LOAD_GROUP", "")
API = "/face/" + os.environ.get("LOAD_API_VERSION", "v1.2")
MODEL = os.environ.get("BENCH_RECOGNITION_MODEL") or "recognition_01"  # as bench_identify.MODEL
DETECT_QUERY = f"?detectionModel=detection_01&recognitionModel={MODEL}&returnFaceId=true"
RECENT_FACE_IDS = 20  # faceIds a client keeps from its own detects for the calls that follow
START_ATTEMPTS = 10


class _FaceApiUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    default_headers = {"Ocp-Apim-Subscription-Key": KEY}

    def on_start(self) -> None:
        self.recent: deque[str] = deque(maxlen=RECENT_FACE_IDS)
        for _ in range(START_ATTEMPTS):
            if len(self.recent) >= 2:
                return
            self.detect()
        raise StopUser()

    def detect(self) -> None:
        faces = self._post(f"{API}/detect{DETECT_QUERY}", "detect", data=random.choice(PHOTOS),
                           headers={"Content-Type": "application/octet-stream"})
        if faces:
            self.recent.extend(face["faceId"] for face in faces)

    def _post(self, path: str, name: str, **kwargs) -> object:
        """POST and return the parsed JSON body (None on failure, which locust records)."""
        with self.client.post(path, name=name, catch_response=True, **kwargs) as response:
            if not 200 <= response.status_code < 300:
                response.failure(f"status {response.status_code}")
                return None
            return json.loads(response.content) if response.content else None

    def _post_json(self, path: str, name: str, body: dict) -> object:
        return self._post(path, name, data=json.dumps(body), headers={"Content-Type": "application/json"})


class FaceClientUser(_FaceApiUser):
    """An application client: detect, then recognise with the faceIds it got."""

    @task(50)
    def detect_faces(self) -> None:
        self.detect()

    @task(20)
    def verify(self) -> None:
        first, second = random.sample(list(self.recent), 2)
        self._post_json(f"{API}/verify", "verify", {"faceId1": first, "faceId2": second})

    @task(20)
    def identify(self) -> None:
        self._post_json(f"{API}/identify", "identify",
                        {"faceIds": [random.choice(self.recent)], "largePersonGroupId": GROUP})

    @task(10)
    def find_similar(self) -> None:
        faces = list(self.recent)
        self._post_json(f"{API}/findsimilars", "findsimilars", {"faceId": faces[-1], "faceIds": faces[:-1]})


class DetectUser(_FaceApiUser):
    """Detect with faceIds only."""

    @task
    def detect_faces(self) -> None:
        self.detect()

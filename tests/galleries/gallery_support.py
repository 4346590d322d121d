"""Plain helpers for the gallery tests (photos, error codes, running the training worker).

Kept out of conftest.py so test modules import them by a name no other test folder uses.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared")
PERSONS_DIR = SHARED_DIR / "data" / "faces" / "persons"
MULTI_DIR = SHARED_DIR / "data" / "faces" / "multi"
NOFACE_DIR = SHARED_DIR / "data" / "faces" / "noface"


def photos(person: str) -> list[Path]:
    return sorted((PERSONS_DIR / person).glob("*.jpg"))


def error_code(exc_info) -> str:
    """error.code of an old-SDK APIErrorException or a new-SDK HttpResponseError."""
    from azure.cognitiveservices.vision.face.models import APIErrorException

    err = exc_info.value
    return err.error.error.code if isinstance(err, APIErrorException) else err.error.code


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


def drain_training() -> int:
    """Run the training worker on every queued message (for tests using ``isolated``)."""
    from shared.galleries import training

    return drain(training.QUEUE, training.run)

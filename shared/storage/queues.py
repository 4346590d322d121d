"""Sending work to queue-triggered functions.

Messages are base64-encoded text, which is what the Functions host expects by default
(host.json extensions.queues.messageEncoding = base64).
"""
from __future__ import annotations

import json
import threading

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import BinaryBase64DecodePolicy, QueueClient, TextBase64EncodePolicy

from shared.storage.clients import queue_service
from shared.storage.naming import queue_name

_created: set[tuple[str, str]] = set()
_created_lock = threading.Lock()


class WorkQueue:
    def __init__(self, base_name: str):
        self.name = queue_name(base_name)
        self._client = _ensure_queue(self.name)

    def send(self, message: dict) -> None:
        self._client.send_message(json.dumps(message, separators=(",", ":")))


def queue_client(full_name: str) -> QueueClient:
    """A client for an already-named queue, with the Functions host's base64 encoding."""
    return queue_service().get_queue_client(
        full_name, message_encode_policy=TextBase64EncodePolicy(),
        message_decode_policy=BinaryBase64DecodePolicy())


def _ensure_queue(name: str) -> QueueClient:
    client = queue_client(name)
    key = (client.url, name)
    if key not in _created:
        with _created_lock:
            if key not in _created:
                try:
                    client.create_queue()
                except ResourceExistsError:
                    pass
                _created.add(key)
    return client

"""Sending work to queue-triggered functions.

Messages are base64-encoded text, which is what the Functions host expects by default
(host.json extensions.queues.messageEncoding = base64).
"""
from __future__ import annotations

import json

from azure.storage.queue import BinaryBase64DecodePolicy, QueueClient, TextBase64EncodePolicy

from shared.storage.clients import create_once, queue_service
from shared.storage.naming import queue_name


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
    create_once(client.url, name, client.create_queue)
    return client

"""Sending work to queue-triggered functions.

Messages are base64-encoded text, which is what the Functions host expects by default
(host.json extensions.queues.messageEncoding = base64).

Every queue is bounded: a send to a queue that already holds FACE_QUEUE_MAX_MESSAGES messages
(default 1000, the queue's approximate count, in flight included; 0 = unbounded) is refused
with 429 TooManyRequests and Retry-After before anything is written, so the request that
wanted the work fails cleanly and its client retries later, instead of work piling up
faster than the workers drain it.
"""
from __future__ import annotations

import json

from azure.storage.queue import BinaryBase64DecodePolicy, QueueClient, TextBase64EncodePolicy

from shared.errors import TooManyRequests
from shared.settings import env_int
from shared.storage.clients import create_once, queue_service
from shared.storage.naming import queue_name

FULL_RETRY_AFTER_SECONDS = 30  # queued work takes seconds to minutes each to drain


class WorkQueue:
    def __init__(self, base_name: str):
        self.name = queue_name(base_name)
        self._client = _ensure_queue(self.name)

    def send(self, message: dict) -> None:
        """Queue one message; 429 when the queue is full."""
        self.check_room()
        self._client.send_message(json.dumps(message, separators=(",", ":")))

    def check_room(self) -> None:
        """429 TooManyRequests when the queue holds its limit of messages or more. A caller that
        must write something before sending checks first, so a full queue leaves nothing behind."""
        limit = env_int("FACE_QUEUE_MAX_MESSAGES", 1000)
        if limit > 0 and self._client.get_queue_properties().approximate_message_count >= limit:
            raise TooManyRequests("Too many requests are waiting to be processed. Try again later.",
                                  retry_after=FULL_RETRY_AFTER_SECONDS)


def queue_client(full_name: str) -> QueueClient:
    """A client for an already-named queue, with the Functions host's base64 encoding."""
    return queue_service().get_queue_client(
        full_name, message_encode_policy=TextBase64EncodePolicy(),
        message_decode_policy=BinaryBase64DecodePolicy())


def _ensure_queue(name: str) -> QueueClient:
    client = queue_client(name)
    create_once(client.url, name, client.create_queue)
    return client

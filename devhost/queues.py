"""Queue triggers from the storage account's queues, as the Functions host runs them:
base64 messages, retried until 5 dequeues, then moved to ``<queue>-poison``. The trigger's
``connection`` is resolved by the app's own storage clients (shared.storage.clients), so
connection strings and identity-based connections work here as they do in the app."""
from __future__ import annotations

import logging
import threading

import azure.functions as func
from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import BinaryBase64DecodePolicy, BinaryBase64EncodePolicy, QueueClient

from devhost.functions import HostedFunction
from devhost.settings import resolve

logger = logging.getLogger("devhost.queues")
MAX_DEQUEUE_COUNT = 5
VISIBILITY_TIMEOUT_SECONDS = 600
_MIN_POLL, _MAX_POLL = 0.1, 2.0


class QueueListener:
    def __init__(self, function: HostedFunction, stop: threading.Event):
        self.function = function
        connection = function.trigger.get("connection") or "AzureWebJobsStorage"
        name = resolve(function.trigger["queueName"])
        self._queue = _client(connection, name)
        self._poison = _client(connection, f"{name}-poison")
        self._stop = stop
        self._thread = threading.Thread(target=self._loop, name=f"queue-{function.name}", daemon=True)

    def start(self) -> None:
        for queue in (self._queue, self._poison):
            try:
                queue.create_queue()
            except ResourceExistsError:
                pass
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _loop(self) -> None:
        delay = _MIN_POLL
        while not self._stop.wait(delay):
            try:
                handled = self.poll_once()
            except Exception:  # storage hiccup: log, back off, keep listening
                logger.exception("polling queue for %s failed", self.function.name)
                handled = 0
            delay = _MIN_POLL if handled else min(_MAX_POLL, delay * 2)

    def poll_once(self) -> int:
        messages = list(self._queue.receive_messages(
            messages_per_page=16, max_messages=16, visibility_timeout=VISIBILITY_TIMEOUT_SECONDS))
        for message in messages:
            self._handle(message)
        return len(messages)

    def _handle(self, message) -> None:
        body = message.content
        try:
            self.function.invoke(func.QueueMessage(id=message.id, body=body, pop_receipt=message.pop_receipt))
        except Exception:
            logger.exception("queue function %s failed (dequeue %d)", self.function.name, message.dequeue_count)
            if message.dequeue_count >= MAX_DEQUEUE_COUNT:
                self._poison.send_message(body)
                self._queue.delete_message(message)
            else:
                self._queue.update_message(message, visibility_timeout=0)
            return
        self._queue.delete_message(message)


def _client(connection: str, name: str) -> QueueClient:
    # The app's package: importable once the app folder is on sys.path (python -m devhost).
    from shared.storage.clients import queue_service

    return queue_service(connection).get_queue_client(
        name, message_encode_policy=BinaryBase64EncodePolicy(), message_decode_policy=BinaryBase64DecodePolicy())

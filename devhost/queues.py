"""Queue triggers from the storage account's queues, as the Functions host runs them:
base64 messages, retried until 5 dequeues, then moved to ``<queue>-poison``. The trigger's
``connection`` is resolved by the app's own storage clients (shared.storage.clients), so
connection strings and identity-based connections work here as they do in the app, with the
app's bounded storage timeouts and retries.

A message is leased while its function runs: received invisible for the lease time and the
lease renewed every third of that, as the Functions host renews its own. If the process
dies, the message shows up again when the lease runs out (30 s here, DEVHOST_QUEUE_LEASE_SECONDS
overrides; the Functions host leases for 10 minutes) and another instance runs it.
"""
from __future__ import annotations

import logging
import os
import threading

import azure.functions as func
from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import BinaryBase64DecodePolicy, BinaryBase64EncodePolicy, QueueClient

from devhost.functions import HostedFunction
from devhost.settings import resolve

logger = logging.getLogger("devhost.queues")
MAX_DEQUEUE_COUNT = 5
LEASE_SECONDS = int(os.environ.get("DEVHOST_QUEUE_LEASE_SECONDS") or 30)
_MIN_POLL, _MAX_POLL = 0.1, 2.0


class QueueListener:
    def __init__(self, function: HostedFunction, stop: threading.Event):
        self.function = function
        connection = function.trigger.get("connection") or "AzureWebJobsStorage"
        name = resolve(function.trigger["queueName"])
        self._queue = _client(connection, name)
        self._poison = _client(connection, f"{name}-poison")
        self._stop = stop
        self._created = False
        self._thread = threading.Thread(target=self._loop, name=f"queue-{function.name}", daemon=True)

    def start(self) -> None:
        try:
            self._create_queues()
            self._created = True
        except Exception as err:  # storage not up yet: the listener's loop makes them later
            logger.warning("queues for %s not reachable yet (%r); the listener keeps trying", self.function.name, err)
        self._thread.start()

    def _create_queues(self) -> None:
        for queue in (self._queue, self._poison):
            try:
                queue.create_queue()
            except ResourceExistsError:
                pass

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _loop(self) -> None:
        # Storage may come up after the host (make run starts Azurite and the host together):
        # queues start() could not make are made here, once storage answers.
        delay = _MIN_POLL
        while not self._stop.wait(delay):
            try:
                if not self._created:
                    self._create_queues()
                    self._created = True
                handled = self.poll_once()
            except Exception:  # storage hiccup: log, back off, keep listening
                logger.exception("polling queue for %s failed", self.function.name)
                handled = 0
            delay = _MIN_POLL if handled else min(_MAX_POLL, delay * 2)

    def poll_once(self) -> int:
        messages = list(self._queue.receive_messages(
            messages_per_page=16, max_messages=16, visibility_timeout=LEASE_SECONDS))
        for message in messages:
            self._handle(message)
        return len(messages)

    def _handle(self, message) -> None:
        body = message.content
        with _Lease(self._queue, message) as lease:
            try:
                self.function.invoke(func.QueueMessage(id=message.id, body=body, pop_receipt=message.pop_receipt))
                failed = False
            except Exception:
                logger.exception("queue function %s failed (dequeue %d)", self.function.name, message.dequeue_count)
                failed = True
        if not failed:
            self._queue.delete_message(message.id, lease.pop_receipt)
        elif message.dequeue_count >= MAX_DEQUEUE_COUNT:
            self._poison.send_message(body)
            self._queue.delete_message(message.id, lease.pop_receipt)
        else:
            self._queue.update_message(message.id, lease.pop_receipt, visibility_timeout=0)


class _Lease:
    """Keeps a received message invisible while its function runs (renewing every third of
    LEASE_SECONDS); ``pop_receipt`` is the latest one, which deleting the message needs."""

    def __init__(self, queue: QueueClient, message) -> None:
        self._queue, self._id, self.pop_receipt = queue, message.id, message.pop_receipt
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="queue-lease", daemon=True)

    def __enter__(self) -> "_Lease":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _renew(self) -> None:
        while not self._done.wait(LEASE_SECONDS / 3):
            try:
                renewed = self._queue.update_message(self._id, self.pop_receipt, visibility_timeout=LEASE_SECONDS)
                self.pop_receipt = renewed.pop_receipt
            except Exception:  # storage hiccup: the next renewal may still make it in time
                logger.warning("could not renew the lease of queue message %s", self._id, exc_info=True)


def _client(connection: str, name: str) -> QueueClient:
    # The app's package: importable once the app folder is on sys.path (python -m devhost).
    from shared.storage.clients import queue_service

    return queue_service(connection).get_queue_client(
        name, message_encode_policy=BinaryBase64EncodePolicy(), message_decode_policy=BinaryBase64DecodePolicy())

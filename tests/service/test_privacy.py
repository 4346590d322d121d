"""After every other test: nothing in storage holds an image or a raw embedding.

Scans every table entity, blob and queue message under this run's storage prefix through
the storage SDKs, looking for image file signatures, slices of the photos the tests sent,
and the float32/float64 bytes of their embeddings (recomputed here with the same engine).
Tests declare the stores they filled (privacy_probe.stored_in: the directory's tables, its
journal and published blobs, the operations), and the scan proves it read each of them.
"""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

import numpy as np
import pytest
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from shared.engine.engine import get_engine
from shared.engine.types import DetectOptions

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_START = re.compile(rb"\xff\xd8\xff[\xe0-\xef\xdb\xc0\xc4]")
JPEG_APP_HEADER = re.compile(rb"\xff\xd8\xff[\xe0\xe1]..(JFIF|Exif)", re.DOTALL)
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]{24,}$")


def _stored_values(service) -> Iterator[tuple[str, bytes]]:
    """(where, bytes) for every stored value under the run's prefix."""
    prefix = service.storage_prefix
    tables = TableServiceClient.from_connection_string(service.connection_string)
    for table in tables.list_tables():
        if table.name.startswith(prefix):
            for entity in tables.get_table_client(table.name).list_entities():
                for name, value in entity.items():
                    yield from _as_bytes(f"table {table.name} {name}", value)
    blobs = BlobServiceClient.from_connection_string(service.connection_string)
    for container in blobs.list_containers(name_starts_with=prefix):
        client = blobs.get_container_client(container.name)
        for blob in client.list_blobs():
            yield f"blob {container.name}/{blob.name}", client.download_blob(blob.name).readall()
    queues = QueueServiceClient.from_connection_string(service.connection_string)
    for queue in queues.list_queues(name_starts_with=prefix):
        for message in queues.get_queue_client(queue.name).peek_messages(max_messages=32):
            yield from _as_bytes(f"queue {queue.name}", message.content)


def _as_bytes(where: str, value: object) -> Iterator[tuple[str, bytes]]:
    if isinstance(value, bytes):
        yield where, value
    elif isinstance(value, str):
        yield where, value.encode("utf-8", "surrogatepass")
        if _BASE64.match(value):  # a value someone base64-encoded to fit a string column
            try:
                yield f"{where} (base64)", base64.b64decode(value, validate=False)
            except (binascii.Error, ValueError):
                pass


def _embedding_needles(privacy_probe) -> list[bytes]:
    engine, needles = get_engine(), []
    for image, models in privacy_probe.images.items():
        for detection_model, recognition_model in models:
            options = DetectOptions(detection_model=detection_model, recognition_models=(recognition_model,))
            for face in engine.detect(image, options):
                vector = face.templates[recognition_model].vector
                needles += [np.asarray(vector, "<f4").tobytes()[:32], np.asarray(vector, "<f8").tobytes()[:64]]
    return needles


def _image_needles(privacy_probe) -> list[bytes]:
    """Slices from inside each photo (past the headers) that a stored copy would contain."""
    return [image[offset:offset + 48] for image in privacy_probe.images
            for offset in (len(image) // 3, 2 * len(image) // 3)]


@pytest.mark.privacy_scan
def test_storage_holds_no_image_and_no_raw_embedding(service, privacy_probe):
    assert privacy_probe.images, "no test recorded the images it sent"
    embeddings, slices = _embedding_needles(privacy_probe), _image_needles(privacy_probe)
    assert embeddings
    scanned, seen = 0, set()
    for where, data in _stored_values(service):
        scanned += 1
        seen.add(where.split(" ")[1])  # a table name, or <container>/<blob>
        assert not data.startswith(PNG_SIGNATURE) and PNG_SIGNATURE not in data, where
        assert not JPEG_START.match(data) and not JPEG_APP_HEADER.search(data), where
        assert not any(needle in data for needle in slices), f"{where} holds part of a test photo"
        assert not any(needle in data for needle in embeddings), f"{where} holds a raw embedding"
    assert scanned > 0, "nothing was stored, so the scan proves nothing"
    for store in privacy_probe.stores:  # each store a test declared it filled was read above
        container, _, blob_prefix = store.partition("/")
        prefix = service.storage_prefix
        wanted = f"{prefix}-{container}/{blob_prefix}" if blob_prefix else prefix + store
        assert any(name.startswith(wanted) for name in seen), f"the scan found nothing in {store}"


"""Short-lived faceIds: the encrypted template of each detected face, until its TTL runs out.

Row layout: PartitionKey = the faceId's first two hex digits, RowKey = the faceId.
All faces of one detect call share a partition (their ids are drawn with the same first
two digits), so a detect's rows are written in one transaction: all or nothing.
Expiry is checked on every read, so an expired faceId is refused at once, whether or not
the sweeper has removed the row yet.
"""
from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from shared import clock
from shared.engine.types import Template
from shared.errors import NotFound
from shared.storage.tables import BATCH_LIMIT, Table
from shared.storage.templates import row_location, template_columns, template_from_columns

TABLE = "faceids"
EXPIRES_AT = "ExpiresAt"
_READ_WORKERS = 16
# Azure Tables allow 15 comparisons in one filter: the partition key plus 14 row keys.
_KEYS_PER_QUERY = 14
_readers = ThreadPoolExecutor(max_workers=_READ_WORKERS, thread_name_prefix="faceid-read")


def face_not_found() -> NotFound:
    return NotFound("Face is not found.", code="FaceNotFound")


class FaceIdStore:
    def __init__(self) -> None:
        self._table = Table(TABLE)

    def put_all(self, templates: Sequence[Template], ttl_seconds: int) -> list[str]:
        """Store one template per face; returns their new faceIds in the same order."""
        if not templates:
            return []
        if len(templates) > BATCH_LIMIT:
            raise ValueError(f"at most {BATCH_LIMIT} faces per call")
        partition = secrets.token_hex(1)
        expires = clock.now() + timedelta(seconds=ttl_seconds)
        face_ids = [partition + str(uuid.uuid4())[2:] for _ in templates]
        rows = [self._row(partition, face_id, template, expires)
                for face_id, template in zip(face_ids, templates)]
        self._table.transact([("create", row) for row in rows])
        return face_ids

    def get(self, face_id: str) -> Template:
        """The template of a live faceId; 404 FaceNotFound when unknown or expired."""
        return self.get_many([face_id])[face_id]

    def get_many(self, face_ids: Sequence[str]) -> dict[str, Template]:
        """Templates keyed by the ids as given; 404 FaceNotFound if any one is missing or
        expired. Reads one query per partition and 14 ids, in parallel: for 1,000 faceIds
        that is a few hundred round trips instead of a thousand point reads. A partition
        with one id (verify's two faces from two detects) gets a point read instead."""
        unique = list(dict.fromkeys(face_ids))
        by_partition: dict[str, list[str]] = {}
        for key in dict.fromkeys(face_id.lower() for face_id in unique):
            by_partition.setdefault(key[:2], []).append(key)
        chunks = [(partition, keys[start:start + _KEYS_PER_QUERY])
                  for partition, keys in by_partition.items() for start in range(0, len(keys), _KEYS_PER_QUERY)]
        rows: dict[str, dict] = {}
        for found in _readers.map(self._read_rows, chunks):
            rows.update(found)
        now = clock.now()
        templates = {}
        for face_id in unique:
            key = face_id.lower()
            row = rows.get(key)
            if row is None or row[EXPIRES_AT] <= now:
                raise face_not_found()
            templates[face_id] = template_from_columns(row, row_location(self._table.name, key[:2], key))
        return templates

    def _read_rows(self, chunk: tuple[str, list[str]]) -> dict[str, dict]:
        partition, keys = chunk
        if len(keys) == 1:  # a point read: Azure answers a RowKey "or" filter with a partition scan
            row = self._table.get(partition, keys[0])
            return {} if row is None else {keys[0]: row}
        parameters = {"pk": partition, **{f"k{index}": key for index, key in enumerate(keys)}}
        row_filter = " or ".join(f"RowKey eq @k{index}" for index in range(len(keys)))
        # The SDK substitutes @names between spaces, hence the spaced parentheses.
        rows = self._table.query(f"PartitionKey eq @pk and ( {row_filter} )", parameters)
        return {row["RowKey"]: row for row in rows}

    def sweep_expired(self) -> int:
        """Delete every expired row; safe to run concurrently and repeatedly."""
        return self._table.delete_matching(f"{EXPIRES_AT} le @now", {"now": clock.now()})

    def _row(self, partition: str, face_id: str, template: Template, expires) -> dict:
        where = row_location(self._table.name, partition, face_id)
        return {"PartitionKey": partition, "RowKey": face_id, EXPIRES_AT: expires,
                **template_columns(template, where)}

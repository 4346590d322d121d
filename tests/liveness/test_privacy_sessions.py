"""After every other test (with the storage privacy scan of tests/service/test_privacy.py, which
covers the liveness tables and the session-image container like every other store): no
session token is stored anywhere, and every stored session image is ciphertext under the
service key, bound to its blob name, of a session that still exists."""
from __future__ import annotations

import pytest

from shared import clock
from shared.liveness import abuse, images, monitoring
from shared.liveness.store import SessionStore
from shared.storage import crypto
from shared.storage.tables import Table
from shared.storage.templates import row_location, template_from_columns
from test_privacy import _stored_values


@pytest.mark.privacy_scan
def test_sessions_store_no_token_and_only_sealed_images_of_live_sessions(service, api):
    assert api.tokens, "no liveness test ran, so this scan proves nothing"
    container = f"blob {service.storage_prefix}-{images.CONTAINER}/"
    tokens = [token.encode() for token in api.tokens]
    store = SessionStore()
    for where, data in _stored_values(service):
        assert not any(token in data for token in tokens), f"{where} holds a session token"
        if where.startswith(container):
            blob = where[len(container):]
            session_id, image_id = blob.split("/", 1)
            assert images.session_of(image_id) == session_id
            assert store.exists(session_id), f"{where} outlived its session"
            assert crypto.decrypt(data, images.aad(blob)).startswith(b"\xff\xd8\xff"), where


@pytest.mark.privacy_scan
def test_abuse_observations_are_sealed_young_and_of_live_sessions(service):
    """What abuse monitoring keeps, at the end of the run: each observation's template is
    ciphertext bound to its row (the scan above found no raw embedding of any face sent), of
    a session that still exists, made less than 48 hours ago by the service clock; and none
    at all while monitoring is off."""
    table = Table(abuse.TABLE)
    rows = list(table.query("PartitionKey ge @first", {"first": ""}))
    if not monitoring.enabled(fresh=True):
        assert rows == []
    store = SessionStore()
    for row in rows:
        where = row_location(table.name, row["PartitionKey"], row["RowKey"])
        assert template_from_columns(row, where).recognition_model == "recognition_04"
        assert store.exists(row["PartitionKey"]), f"{where} outlived its session"
        assert clock.now() - row[abuse.MADE_AT] < abuse.LIFETIME, f"{where} is older than 48 hours"

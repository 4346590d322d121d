"""After every other test (with the storage privacy scan of tests/service/test_privacy.py, which
covers the liveness tables and the session-image container like every other store): no
session token is stored anywhere, and every stored session image is ciphertext under the
service key, bound to its blob name, of a session that still exists."""
from __future__ import annotations

import pytest

from shared.liveness import images
from shared.liveness.store import SessionStore
from shared.storage import crypto
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

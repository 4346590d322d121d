"""Storage building blocks against Azurite: encryption bound to its row, the faceId store,
create-on-first-use."""
from __future__ import annotations

import base64
import os
import secrets
import uuid

import numpy as np
import pytest
from azure.core.exceptions import ResourceExistsError

from shared.engine.types import Template
from shared.errors import NotFound
from shared.storage import crypto
from shared.storage.clients import create_once
from shared.storage.faceids import FaceIdStore
from shared.storage.naming import table_name
from shared.storage.templates import row_location, template_columns, template_from_columns


def _template(model: str = "recognition_01", seed: int = 0) -> Template:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return Template(vector, "dlib_resnet_v1", "1", model)


def test_encryption_round_trip_and_binding_to_its_location(service):
    sealed = crypto.encrypt(b"secret", b"table/pk/rk1")
    assert crypto.decrypt(sealed, b"table/pk/rk1") == b"secret"
    assert b"secret" not in sealed
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(sealed, b"table/pk/rk2")  # copied into another row
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered, b"table/pk/rk1")


def test_old_keys_still_decrypt_after_rotation(service, monkeypatch):
    sealed = crypto.encrypt(b"before rotation", b"where")
    old_key = os.environ["FACE_TEMPLATE_KEY"]
    monkeypatch.setenv("FACE_TEMPLATE_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(sealed, b"where")
    monkeypatch.setenv("FACE_TEMPLATE_OLD_KEYS", old_key)
    assert crypto.decrypt(sealed, b"where") == b"before rotation"


def test_template_columns_hide_the_vector_and_bind_the_model_columns(service):
    template = _template("recognition_04")
    where = row_location("t", "pk", "rk")
    columns = template_columns(template, where)
    assert columns["RecognitionModel"] == "recognition_04" and columns["Embedder"] == "dlib_resnet_v1"
    assert template.vector.tobytes()[:16] not in columns["Template"]
    restored = template_from_columns(columns, where)
    np.testing.assert_array_equal(restored.vector, template.vector)
    with pytest.raises(crypto.DecryptionError):
        template_from_columns({**columns, "RecognitionModel": "recognition_01"}, where)
    with pytest.raises(crypto.DecryptionError):
        template_from_columns(columns, row_location("t", "pk", "other"))


def test_face_id_store_round_trip_and_unknown_ids(service):
    store = FaceIdStore()
    templates = [_template(seed=seed) for seed in range(3)]
    face_ids = store.put_all(templates, ttl_seconds=60)
    assert len(set(face_ids)) == 3 and len({face_id[:2] for face_id in face_ids}) == 1
    found = store.get_many([face_ids[2], face_ids[0], face_ids[2]])
    np.testing.assert_array_equal(found[face_ids[0]].vector, templates[0].vector)
    assert list(found) == [face_ids[2], face_ids[0]]
    with pytest.raises(NotFound) as err:
        store.get_many([face_ids[0], str(uuid.uuid4())])
    assert err.value.code == "FaceNotFound"


def test_face_id_store_reads_single_ids_of_several_partitions(service):
    store = FaceIdStore()
    templates = [_template(seed=seed) for seed in range(4)]
    face_ids = [store.put_all([template], ttl_seconds=60)[0] for template in templates]
    found = store.get_many(face_ids)
    for face_id, template in zip(face_ids, templates):
        np.testing.assert_array_equal(found[face_id].vector, template.vector)
    lone = "ff" if face_ids[0][:2] != "ff" else "fe"
    with pytest.raises(NotFound):
        store.get_many([face_ids[0], lone + str(uuid.uuid4())[2:]])


def test_at_most_100_faces_per_detect_write(service):
    with pytest.raises(ValueError):
        FaceIdStore().put_all([_template()] * 101, ttl_seconds=60)


@pytest.mark.parametrize("prefix", ["", "9abc", "UPPER", "has-dash", "a" * 21])
def test_storage_prefix_is_validated(monkeypatch, prefix):
    monkeypatch.setenv("FACE_STORAGE_PREFIX", prefix)
    if prefix == "":  # unset falls back to the default prefix
        assert table_name("x") == "facex"
        return
    with pytest.raises(RuntimeError):
        table_name("x")


def test_sweep_deletes_expired_rows_in_batches_and_keeps_live_ones(service, clock):
    store = FaceIdStore()
    expired = [face_id for _ in range(3) for face_id in store.put_all([_template()] * 100, ttl_seconds=60)]
    live = store.put_all([_template()], ttl_seconds=3600)
    clock.advance(120)
    assert store.sweep_expired() >= len(expired)
    assert store.get(live[0]) is not None
    with pytest.raises(NotFound):
        store.get(expired[0])
    assert store.sweep_expired() == 0


def test_create_once_creates_each_resource_once_and_accepts_existing_ones():
    calls: list[str] = []

    def exists() -> None:
        calls.append("b")
        raise ResourceExistsError("made by another process")

    name = f"t-{uuid.uuid4().hex}"
    for _ in range(3):
        create_once("http://account", name, lambda: calls.append("a"))
        create_once("http://other-account", name, exists)
    assert calls == ["a", "b"]

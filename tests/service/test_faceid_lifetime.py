"""faceIds expire: refused as soon as their time-to-live is over, removed by the sweep."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.data.tables import TableServiceClient

from svc_support import error_code, person_photos


def _face_id_rows(service) -> set[str]:
    tables = TableServiceClient.from_connection_string(service.connection_string)
    table = tables.get_table_client(f"{service.storage_prefix}faceids")
    return {row["RowKey"] for row in table.list_entities(select=["RowKey"])}


def _detect(face_client, image: bytes, ttl: int | None = None) -> str:
    return face_client.detect(image, detection_model="detection_01", recognition_model="recognition_01",
                              return_face_id=True, face_id_time_to_live=ttl)[0].face_id


def test_short_lived_face_id_is_refused_once_expired_then_swept(service, clock, face_client, privacy_probe):
    image = privacy_probe.saw_image(person_photos("deepface_person05")[0].read_bytes())
    short = _detect(face_client, image, ttl=60)
    long = _detect(face_client, image)  # default: 24 h
    assert face_client.verify_face_to_face(face_id1=short, face_id2=long).is_identical

    clock.advance(59)
    assert face_client.verify_face_to_face(face_id1=short, face_id2=long).is_identical
    clock.advance(2)
    with pytest.raises(HttpResponseError) as err:
        face_client.verify_face_to_face(face_id1=short, face_id2=long)
    assert err.value.status_code == 404 and error_code(err.value) == "FaceNotFound"
    assert short in _face_id_rows(service)  # refused before any sweep ran

    removed = service.invoke("sweep")
    assert removed is None  # the timer function returns nothing; its effect is in storage
    rows = _face_id_rows(service)
    assert short not in rows and long in rows
    service.invoke("sweep")  # idempotent: a second sweep finds nothing and fails on nothing
    assert long in _face_id_rows(service)


def test_default_lifetime_is_24_hours(clock, face_client, privacy_probe):
    image = privacy_probe.saw_image(person_photos("deepface_person06")[0].read_bytes())
    first, second = _detect(face_client, image), _detect(face_client, image)
    clock.advance(86400 - 5)
    assert face_client.verify_face_to_face(face_id1=first, face_id2=second).is_identical
    clock.advance(10)
    with pytest.raises(HttpResponseError) as err:
        face_client.group(face_ids=[first, second])
    assert error_code(err.value) == "FaceNotFound"


def test_sweep_over_admin_endpoint_like_the_functions_host(service):
    import requests

    response = requests.post(f"{service.url}/admin/functions/sweep", json={"input": ""}, timeout=30)
    assert response.status_code == 202

"""What PostgreSQL holds: after a delete and the sweep no dead tuple is left and no row holds a
vector of the deleted person; after ``rewrite`` not even the data files' freed space does; and
(the privacy scan, after every other test) no table holds an image, a name or userData."""
from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest

from gallery_support import photos
from svc_support import all_people

MODEL = "recognition_01"
FACES = f"recognitionModels/{MODEL}/persistedfaces"
_EXPECTED_COLUMNS = {
    "face_vectors": {"shard_key", "container", "face_id", "person_id", "generation", "dims", "embedding"},
    "face_owners": {"shard_key", "container", "removed_at", "dims", "centroid"},
    "face_removals": {"shard_key", "container", "face_id", "removed_at"},
}


def _dump(url: str) -> dict[str, bytes]:
    """Every table of the database, as COPY writes it."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        dumps = {}
        for table in tables:
            with conn.cursor().copy(f'COPY "{table}" TO STDOUT') as copy:
                dumps[table] = b"".join(bytes(chunk) for chunk in copy)
    return dumps


def _vector_text(url: str, vector: np.ndarray) -> bytes:
    """The start of a vector as PostgreSQL prints it (what a COPY of its row would contain)."""
    from shared.postgres.vectors import literal

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT (%s::vector)::text", (literal(vector),)).fetchone()[0][:40].encode()


def _held_centroid(url: str, owner: str) -> np.ndarray:
    with psycopg.connect(url) as conn:
        text = conn.execute("SELECT centroid::text FROM face_owners WHERE shard_key = %s", (owner,)).fetchone()[0]
    return np.asarray([float(value) for value in text.strip("[]").split(",")], np.float32)


def _files_holding(data_dir: Path, needle: bytes) -> list[str]:
    return [str(path) for path in (data_dir / "base").rglob("*") if path.is_file() and needle in path.read_bytes()]


def test_after_delete_and_sweep_no_vector_of_the_person_is_left(pg, api, privacy_probe):
    from shared.postgres import maintenance, vectors
    from shared.services import postgres_sync
    from shared.services.sweep import sweep_expired

    name = all_people()[6]
    created = api("POST", "persons", {"name": name, "userData": "privacy-probe-user-data"})
    person_id = created.json()["personId"]
    for path in photos(name)[:2]:
        added = api("POST", f"persons/{person_id}/{FACES}", data=privacy_probe.saw_image(path.read_bytes()))
        assert api.finished(added)["status"] == "succeeded"
    container = vectors.directory_container(MODEL)
    held = vectors.faces_of(container)
    assert len(held) == 2
    from shared.directory import repository

    deleted_vectors = [face.template.vector for face in repository.find_pack(person_id, MODEL).faces]
    assert any(_vector_text(pg.url, deleted_vectors[0]) in dump for dump in _dump(pg.url).values())
    centroid = _held_centroid(pg.url, person_id)  # derived from the templates: it must go with them
    assert np.allclose(centroid, np.mean(deleted_vectors, axis=0), atol=1e-5)
    deleted_vectors.append(centroid)
    assert api.finished(api("DELETE", f"persons/{person_id}"))["status"] == "succeeded"

    sweep_expired()
    deadline = time.monotonic() + 30
    while any(maintenance.dead_tuples().values()) and time.monotonic() < deadline:
        time.sleep(0.5)  # the statistics VACUUM reports reach pg_stat within a moment
    assert not any(maintenance.dead_tuples().values()), maintenance.dead_tuples()
    dumps = _dump(pg.url)
    for vector in deleted_vectors:
        assert not any(_vector_text(pg.url, vector) in dump for dump in dumps.values())
    assert person_id.encode() not in dumps["face_vectors"]
    assert postgres_sync.compare().count() == 0

    # VACUUM frees the space without overwriting it; the rewrite leaves no copy in the data files.
    raw = np.asarray(deleted_vectors[0], "<f4").tobytes()[:32]
    postgres_sync.main(["rewrite"])
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    assert _files_holding(pg.data, raw) == []


def test_large_groups_and_directories_walk_the_index_and_agree_with_the_exact_scan(pg, api, privacy_probe, monkeypatch):
    names = all_people()[7:10]
    person_ids = []
    for name in names:
        person_id = api("POST", "persons", {"name": name}).json()["personId"]
        for path in photos(name)[:2]:
            added = api("POST", f"persons/{person_id}/{FACES}", data=privacy_probe.saw_image(path.read_bytes()))
            assert api.finished(added)["status"] == "succeeded"
        person_ids.append(person_id)
    group = "dpg-" + str(abs(hash(tuple(person_ids))) % 10**8)
    assert api.finished(api("PUT", f"dynamicpersongroups/{group}", {"name": "g", "addPersonIds": person_ids[:2]}))[
        "status"] == "succeeded"
    query = api.detect(photos(names[0])[-1].read_bytes(), MODEL)

    def identify() -> list[tuple[str, float]]:
        response = api("POST", "identify", {"faceIds": [query], "dynamicPersonGroupId": group,
                                            "maxNumOfCandidatesReturned": 5, "confidenceThreshold": 0.0})
        assert response.status_code == 200, response.text
        return [(c["personId"], c["confidence"]) for c in response.json()[0]["candidates"]]

    exact = identify()
    whole = api("POST", "identify", {"faceIds": [query], "personIds": ["*"], "maxNumOfCandidatesReturned": 3})
    monkeypatch.setenv("FACE_POSTGRES_EXACT_PERSONS", "0")  # every group takes the HNSW path
    monkeypatch.setenv("FACE_POSTGRES_EXACT_FACES", "0")  # and so does the whole directory
    from shared.postgres import vectors

    monkeypatch.setattr(vectors, "_states", {})
    walked = identify()
    assert api("POST", "identify", {"faceIds": [query], "personIds": ["*"], "maxNumOfCandidatesReturned": 3}
               ).json() == whole.json()
    assert [p for p, _ in walked] == [p for p, _ in exact] and exact[0][0] == person_ids[0]
    assert {p for p, _ in walked} <= set(person_ids[:2])
    assert np.allclose([c for _, c in walked], [c for _, c in exact], atol=1e-4)


@pytest.mark.privacy_scan
def test_postgres_holds_no_image_name_or_user_data(postgres_server, privacy_probe):
    """Runs last: whatever the suite stored in PostgreSQL is ids, generations and vectors."""
    dumps = _dump(postgres_server.url)
    with psycopg.connect(postgres_server.url) as conn:
        columns = conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                               "WHERE table_schema = 'public'").fetchall()
    found: dict[str, set[str]] = {}
    for table, column in columns:
        found.setdefault(table, set()).add(column)
    assert found == _EXPECTED_COLUMNS
    slices = [image[offset:offset + 48] for image in privacy_probe.images
              for offset in (len(image) // 3, 2 * len(image) // 3)]
    for table, data in dumps.items():
        assert b"\xff\xd8\xff" not in data and b"\x89PNG" not in data, table
        assert not any(piece in data for piece in slices), table
        assert b"privacy-probe-user-data" not in data and b"dev photo person" not in data, table
        assert not re.search(rb"[A-Z][a-z]+_[A-Z][a-z]+", data), f"{table} holds something like a person's name"

"""The app (its own process, postgres mode) killed with SIGKILL while a client adds faces: after
a restart and the sweep, every add that succeeded is listed and searchable, nothing else is
searchable, and PostgreSQL agrees with Table Storage."""
from __future__ import annotations

import json
import threading
import time

import requests

from gallery_support import photos
from reliability_support import AppProcess, app_settings
from svc_support import all_people

MODEL = "recognition_01"
PREVIEW = "face/v1.1-preview.1"


def test_the_app_killed_mid_write_leaves_both_stores_agreeing_after_the_sweep(service, azurite, postgres_server,
                                                                               tmp_path, monkeypatch, privacy_probe):
    from shared.directory import repository
    from shared.postgres import connection, vectors
    from shared.services import postgres_sync
    from shared.services.sweep import sweep_expired

    settings = {**app_settings(azurite, service), "FACE_SEARCH_ENGINE": "postgres",
                "FACE_POSTGRES_URL": postgres_server.url}
    app = AppProcess(settings, tmp_path / "app.log")
    app.start()
    for name, value in (("FACE_SEARCH_ENGINE", "postgres"), ("FACE_POSTGRES_URL", postgres_server.url),
                        ("FACE_STORAGE_PREFIX", app.prefix)):
        monkeypatch.setenv(name, value)
    connection.reset()
    images = [privacy_probe.saw_image(path.read_bytes()) for path in photos(all_people()[10])[:2]]
    try:
        created = app.request("POST", f"{PREVIEW}/persons", json.dumps({"name": "killed"}).encode())
        person_id = created.json()["personId"]
        answered: list[tuple[str, str]] = []  # (faceId, Operation-Location) of adds answered 202
        stop = threading.Event()

        def write(worker: int) -> None:
            while not stop.is_set():
                try:
                    added = app.request("POST", f"{PREVIEW}/persons/{person_id}/recognitionModels/{MODEL}/persistedfaces",
                                        images[worker], content_type="application/octet-stream")
                except requests.ConnectionError:
                    continue  # the app is down: try again until the test stops the writers
                if added.status_code == 202:
                    answered.append((added.json()["persistedFaceId"], added.headers["Operation-Location"]))

        writers = [threading.Thread(target=write, args=(worker,)) for worker in range(2)]
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 120
        while len(answered) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        app.kill()  # two adds in flight: somewhere between the pack, PostgreSQL and the operation
        stop.set()
        for writer in writers:
            writer.join(timeout=120)
        app.start()

        monkeypatch.setenv("FACE_OPERATION_TIMEOUT_SECONDS", "0")  # every unfinished operation is abandoned
        sweep_expired()
        statuses = {face: requests.get(location, headers=app.headers(), timeout=30).json()["status"]
                    for face, location in answered}
        assert len(statuses) >= 3 and set(statuses.values()) == {"succeeded"}, statuses
        listed = set(repository.find_pack(person_id, MODEL).face_ids)
        searchable = {face for face, owner in vectors.faces_of(vectors.directory_container(MODEL)).items()
                      if owner == person_id}
        assert set(statuses) <= listed == searchable
        differences = postgres_sync.compare()
        assert differences.count() == 0, differences.as_json()
    finally:
        app.stop()
        connection.reset()

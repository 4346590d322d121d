"""End-to-end identify latency through the HTTP API on a LargePersonGroup of 10,000 persons.

    .venv/bin/python benchmarks/bench_identify.py [--persons 10000] [--faces-per-person 1] [--queries 200]

Starts a private Azurite and the function app on the devhost (in this process). Real photos
of 10k people do not exist, so the group is enrolled directly through the gallery storage
layer: the 13 dev-photo identities with real templates (all photos but the last), plus
synthetic persons whose templates are drawn around random centres at dlib-like distances
(other persons ~1.0 apart, a person's own faces ~0.35 apart; same-person threshold ~0.6).
Training runs through the API (train -> queue worker -> snapshot). Each query is a real
/detect of a held-out photo; the timed call is POST /identify. Prints training time, the
first (snapshot-loading) identify, p50/p95 of the warm ones, and rank-1 accuracy.
"""
from __future__ import annotations

import argparse
import base64
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared").resolve()
PERSONS_DIR = SHARED_DIR / "data" / "faces" / "persons"
AZURITE = REPO_ROOT / "node_modules" / ".bin" / "azurite"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
GROUP = "bench-identify"
# The recognition model enrolled and queried (bench-load too): BENCH_RECOGNITION_MODEL=recognition_04
# measures the default fused template instead of dlib's.
MODEL = os.environ.get("BENCH_RECOGNITION_MODEL") or "recognition_01"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_azurite(location: str | None) -> tuple[subprocess.Popen, str]:
    """A private Azurite with its data in ``location``, or (None) off the disk with a node heap
    big enough for millions of rows, for benchmarks that write more than Azurite saves quickly."""
    ports = [free_port() for _ in range(3)]
    storage = ["--inMemoryPersistence"] if location is None else ["--location", location]
    env = {**os.environ, "NODE_OPTIONS": "--max-old-space-size=16384"} if location is None else None
    process = subprocess.Popen(
        [str(AZURITE), "--silent", "--skipApiVersionCheck", "--disableTelemetry", "--loose", *storage,
         "--blobHost", "127.0.0.1", "--blobPort", str(ports[0]), "--queueHost", "127.0.0.1",
         "--queuePort", str(ports[1]), "--tableHost", "127.0.0.1", "--tablePort", str(ports[2])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env)
    for port in ports:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("Azurite did not start") from None
                time.sleep(0.1)
    base = "http://127.0.0.1:{}/devstoreaccount1"
    conn = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={base.format(ports[0])};QueueEndpoint={base.format(ports[1])};"
            f"TableEndpoint={base.format(ports[2])};")
    return process, conn


def configure(connection_string: str) -> str:
    key = "bench-" + secrets.token_hex(8)
    os.environ.update({
        "AzureWebJobsStorage": connection_string, "FACE_STORAGE_PREFIX": "bench",
        "FACE_TEMPLATE_KEY": base64.b64encode(secrets.token_bytes(32)).decode(), "FACE_ADMIN_KEYS": key,
        # The app's readiness checks every key it may need (liveness tokens too).
        "FACE_LIVENESS_TOKEN_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        # Capacity, not the per-credential limits.
        "FACE_RATE_ADMIN_PER_SECOND": "0", "FACE_RATE_RECOGNIZER_PER_SECOND": "0",
        "FACE_RECOGNIZER_KEYS": "", "FACE_SWEEP_SCHEDULE": "0 0 0 1 1 *",
    })
    os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))
    return key


def real_templates() -> tuple[dict[str, list], dict[str, bytes]]:
    """Per dev identity: templates of all photos but the last (via the engine); and the held-out photo."""
    from shared.engine.engine import get_engine
    from shared.engine.types import DetectOptions

    engine, enrol, held_out = get_engine(), {}, {}
    for person_dir in sorted(p for p in PERSONS_DIR.iterdir() if p.is_dir()):
        photos = sorted(person_dir.glob("*.jpg"))
        enrol[person_dir.name] = [engine.detect(p.read_bytes(), DetectOptions(recognition_models=(MODEL,)))[0]
                                  .templates[MODEL] for p in photos[:-1]]
        held_out[person_dir.name] = photos[-1].read_bytes()
    return enrol, held_out


def synthetic_vectors(count: int, per_person: int, dims: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.normal(0.0, 0.7 / np.sqrt(dims), size=(count, dims))
    noise = rng.normal(0.0, 0.25 / np.sqrt(dims), size=(count, per_person, dims))
    return (centres[:, None, :] + noise).astype(np.float32)


def enrol_directly(container, real: dict[str, list], synthetic: np.ndarray) -> dict[str, str]:
    """Person and face rows written in batches through the gallery repository."""
    from shared.engine.types import Template
    from shared.galleries import repository
    from shared.galleries.records import PersistedFace, Person
    from shared.storage.templates import row_location, template_columns

    probe = next(iter(real.values()))[0]
    people: list[tuple[Person, list]] = [(Person(str(uuid.uuid4()), name, None), templates)
                                         for name, templates in real.items()]
    people += [(Person(str(uuid.uuid4()), f"synthetic-{i}", None),
                [Template(v, probe.embedder, probe.embedder_version, MODEL) for v in vectors])
               for i, vectors in enumerate(synthetic)]
    person_rows, face_rows = [], []
    faces_table = repository.faces()
    for person, templates in people:
        for template in templates:
            face = PersistedFace(str(uuid.uuid4()), person.person_id, None)
            person.face_ids.append(face.face_id)
            row = repository.face_to_row(container.incarnation, face)
            where = row_location(faces_table.name, container.incarnation, face.face_id)
            face_rows.append({**row, **template_columns(template, where)})
        person_rows.append(repository.person_to_row(container.incarnation, person))
    for table, rows in ((repository.persons(), person_rows), (faces_table, face_rows)):
        for start in range(0, len(rows), 100):
            table.transact([("create", row) for row in rows[start:start + 100]])

    def counted(c):
        c.person_count = len(people)
        return c

    repository.update_container(container.kind, container.container_id, counted)
    return {person.person_id: person.name for person, _ in people}


def train(session, group_url: str) -> None:
    """Train through the API and wait until the snapshot is published."""
    session.post(f"{group_url}/train").raise_for_status()
    while (status := session.get(f"{group_url}/training").json()["status"]) != "succeeded":
        if status == "failed":
            raise RuntimeError("training failed")
        time.sleep(0.2)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--faces-per-person", type=int, default=1)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT))
    location = tempfile.mkdtemp(prefix="bench-azurite-")
    azurite, conn = start_azurite(location)
    try:
        run(args, configure(conn))
    finally:
        azurite.terminate()
        azurite.wait(timeout=10)
        shutil.rmtree(location, ignore_errors=True)


def run(args, key: str) -> None:
    import requests

    from devhost import DevHost
    from function_app import app
    from shared.galleries import repository
    from shared.galleries.kinds import LARGE_PERSON_GROUP

    host = DevHost(app, port=free_port(), run_timers=False)
    host.start()
    session = requests.Session()
    session.headers["Ocp-Apim-Subscription-Key"] = key
    api = f"{host.url}/face/v1.2"
    try:
        session.put(f"{api}/largepersongroups/{GROUP}", json={"name": "bench", "recognitionModel": MODEL}).raise_for_status()
        real, held_out = real_templates()
        synthetic_count = max(0, args.persons - len(real))
        dims = next(iter(real.values()))[0].vector.size
        synthetic = synthetic_vectors(synthetic_count, args.faces_per_person, dims, np.random.default_rng(7))
        start = time.perf_counter()
        names = enrol_directly(repository.get_container(LARGE_PERSON_GROUP, GROUP), real, synthetic)
        print(f"enrolled {len(names)} persons ({len(real)} real) in {time.perf_counter() - start:.1f} s (direct)")

        start = time.perf_counter()
        train(session, f"{api}/largepersongroups/{GROUP}")
        print(f"training (queue -> index -> snapshot -> publish): {time.perf_counter() - start:.2f} s")

        query_ids = {}
        for name, image in held_out.items():
            detected = session.post(f"{api}/detect?recognitionModel={MODEL}", data=image,
                                    headers={"Content-Type": "application/octet-stream"}).json()
            query_ids[name] = detected[0]["faceId"]
        latencies, correct, first = [], 0, None
        names_cycle = list(query_ids)
        for i in range(args.queries + 1):
            name = names_cycle[i % len(names_cycle)]
            body = {"faceIds": [query_ids[name]], "largePersonGroupId": GROUP}
            start = time.perf_counter()
            response = session.post(f"{api}/identify", json=body)
            elapsed = (time.perf_counter() - start) * 1000
            response.raise_for_status()
            candidates = response.json()[0]["candidates"]
            if i == 0:
                first = elapsed
                continue
            latencies.append(elapsed)
            correct += bool(candidates) and names[candidates[0]["personId"]] == name
        print(f"identify first call (loads the snapshot): {first:.1f} ms")
        print(f"identify warm over {len(latencies)} calls: p50 {percentile(latencies, 50):.1f} ms, "
              f"p95 {percentile(latencies, 95):.1f} ms, max {max(latencies):.1f} ms")
        print(f"rank-1 correct: {correct}/{len(latencies)}")
    finally:
        host.stop()


if __name__ == "__main__":
    main()

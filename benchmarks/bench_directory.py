"""The PersonDirectory grown through its write path to N faces, searched without training.

    .venv/bin/python benchmarks/bench_directory.py [--faces 1000000] [--faces-per-person 5]
        [--delete-fraction 0.01] [--queries 500] [--batch 10000] [--processes 2]

Private Azurite (in-memory) and the service code in this process. Templates come from the
galleries' synthetic generator (bench_identify.synthetic_vectors: persons ~1.0 apart, their own
faces ~0.35 apart), one extra sample per person held out as its query. The write path is the
service's: ``persons.enrol`` (person rows, face packs, journal commits) in batches of --batch
persons from --processes worker processes, with 1% of the persons enrolled so far deleted
after each batch through ``persons.delete`` (operation, journal removals, rows, memberships). A worker thread
runs the queue-triggered compaction whenever a commit queues one, as the Functions host would.

Reported: add throughput; add-to-searchable and delete-to-invisible delays (a single add or
delete through the API path, then a fresh process view must return / must not return the
person: the delay is the call itself); in-process identify ``["*"]`` p50/p95 (journal refresh
against Azurite + search) and person recall@1 against exact search over the live faces, once
with a large delta (the compaction worker stops before the last --held-batches batches, as
if compactions were falling behind) and once right after a compaction; and that compaction's
time. Last line: ``directory N: recall@1 R, p50 Q ms, compaction C s`` (after the compaction).
Recall and latency of the snapshot search are those of shared/index (its defaults).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from pathlib import Path

# One BLAS thread, as docs/index.md measures: a small matrix-vector product (the delta search)
# waits for a second thread that a busy CPU does not schedule at once.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from bench_identify import configure, percentile, start_azurite, synthetic_vectors  # noqa: E402

MODEL = "recognition_01"
DIMS = 128


class Directory:
    """The synthetic persons, which are live, and the service modules that hold them."""

    def __init__(self, vectors: np.ndarray):
        from shared.engine.embedders import get_embedder
        from shared.engine.engine import recognition_embedders

        name = recognition_embedders()[MODEL]
        self.embedder = (name, get_embedder(name).version)
        self.vectors = vectors  # (persons, faces + 1, d): the last sample is the held-out query
        self.person_ids: list[str | None] = [None] * len(vectors)
        self.deleted: set[int] = set()
        self.lock = threading.Lock()

    def template(self, vector: np.ndarray):
        from shared.engine.types import Template

        return Template(np.asarray(vector, np.float32), self.embedder[0], self.embedder[1], MODEL)

    def live(self) -> list[int]:
        return [i for i, pid in enumerate(self.person_ids) if pid is not None and i not in self.deleted]

    def delete(self, index: int) -> float:
        """Delete through the API path; returns the call's milliseconds."""
        from shared.directory import persons

        with self.lock:
            self.deleted.add(index)
        start = time.perf_counter()
        persons.delete(self.person_ids[index])
        return (time.perf_counter() - start) * 1000


def enrol_batch(vectors: np.ndarray, first: int, embedder: tuple[str, str]) -> list[str]:
    """One ``persons.enrol`` call (in a worker process): persons ``first``... with their faces."""
    from shared.directory import persons
    from shared.directory.faces import NewFace
    from shared.engine.types import Template

    people = [persons.NewPerson(f"synthetic-{first + i}", faces={MODEL: [
        NewFace(Template(np.asarray(vector, np.float32), embedder[0], embedder[1], MODEL)) for vector in faces]})
        for i, faces in enumerate(vectors)]
    return persons.enrol(people)


def load(directory: Directory, faces_per_person: int, batch: int, processes: int, delete_fraction: float,
         seed: int, progress=lambda persons: None) -> None:
    """Enrol every person in batches from worker processes (the storage SDK's transactions cost
    Python CPU: one process cannot keep Azurite busy), deleting ``delete_fraction`` of the persons
    enrolled so far after each batch, from this process; ``progress`` hears the persons done."""
    persons = len(directory.vectors)
    batches = [range(start, min(start + batch, persons)) for start in range(0, persons, batch)]
    rng, done, start = np.random.default_rng(seed), 0, time.perf_counter()
    context = multiprocessing.get_context("spawn")  # children open their own storage connections
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool, \
            ThreadPoolExecutor(max_workers=2) as deleters:
        futures = {pool.submit(enrol_batch, directory.vectors[r.start:r.stop, :-1], r.start, directory.embedder): r
                   for r in batches}
        for future in as_completed(futures):
            indexes = futures[future]
            for index, person_id in zip(indexes, future.result()):
                directory.person_ids[index] = person_id
            done += len(indexes)
            progress(done)
            victims = rng.choice(directory.live(), size=int(round(len(indexes) * delete_fraction)), replace=False)
            list(deleters.map(directory.delete, victims.tolist()))
            faces, elapsed = done * faces_per_person, time.perf_counter() - start
            print(f"  {faces:>9,} faces in {elapsed:6.1f} s ({faces / elapsed:,.0f} faces/s), "
                  f"{len(directory.deleted)} persons deleted", flush=True)
    elapsed = time.perf_counter() - start
    total = persons * faces_per_person
    print(f"add throughput: {total:,} faces ({persons:,} persons) in {elapsed:.1f} s = {total / elapsed:,.0f} "
          f"faces/s through persons.enrol from {processes} processes; {len(directory.deleted):,} persons deleted "
          f"along the way through persons.delete")


class Compactor:
    """The queue-triggered compaction, run from its queue as the Functions host runs it."""

    def __init__(self):
        from shared.directory import compaction, journal
        from shared.storage.queues import WorkQueue, queue_client

        self.queue = queue_client(WorkQueue(journal.COMPACTION_QUEUE).name)  # created if missing
        self.run = compaction.run
        self.stop = threading.Event()
        self.runs: list[float] = []
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        import json

        while not self.stop.is_set():
            messages = list(self.queue.receive_messages(max_messages=1, visibility_timeout=3600))
            if not messages:
                self.stop.wait(0.5)
                continue
            start = time.perf_counter()
            self.run(json.loads(bytes(messages[0].content).decode("utf-8")))
            self.queue.delete_message(messages[0])
            self.runs.append(time.perf_counter() - start)


def exact_top_person(directory: Directory, queries: np.ndarray) -> np.ndarray:
    """Index (into directory.vectors) of each query's nearest live person, by brute force."""
    live = np.asarray(directory.live())
    faces = directory.vectors[live, :-1].reshape(-1, DIMS).astype(np.float32)
    owner = np.repeat(live, directory.vectors.shape[1] - 1)
    best = np.full(len(queries), np.inf, np.float32)
    best_owner = np.full(len(queries), -1)
    for start in range(0, len(faces), 100_000):
        chunk = faces[start:start + 100_000]
        d2 = (chunk * chunk).sum(1)[None, :] - 2 * queries @ chunk.T
        position = d2.argmin(1)
        value = d2[np.arange(len(queries)), position]
        better = value < best
        best[better], best_owner[better] = value[better], owner[start:][position[better]]
    return best_owner


def measure_identify(directory: Directory, count: int, label: str, rng: np.random.Generator) -> tuple[float, float]:
    from shared.directory import search, view
    from shared.galleries.search import default_threshold

    live = directory.live()
    chosen = rng.choice(live, size=min(count, len(live)), replace=False)
    queries = directory.vectors[chosen, -1].astype(np.float32)
    truth = exact_top_person(directory, queries)
    by_id = {pid: i for i, pid in enumerate(directory.person_ids)}
    state = view.view(MODEL).current()
    print(f"{label}: snapshot of {state.index.count if state.index else 0:,} faces, delta of {state.count:,} "
          f"added faces, {len(state.removed_persons):,} removed persons, {len(state.removed_faces):,} removed faces")
    latencies, pure, hits = [], [], 0
    target = search.Target()
    for query in queries:
        start = time.perf_counter()
        search.identify([("q", directory.template(query))], target, 1, default_threshold())
        latencies.append((time.perf_counter() - start) * 1000)
    state = view.view(MODEL).current()
    for query, expected in zip(queries, truth):
        start = time.perf_counter()
        found = state.search_persons(query, 1, None)
        pure.append((time.perf_counter() - start) * 1000)
        hits += bool(found) and by_id.get(found[0][0]) == expected
    recall = hits / len(queries)
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    print(f"  identify [\"*\"] in process (journal read + search): p50 {p50:.2f} ms, p95 {p95:.2f} ms; "
          f"search alone p50 {percentile(pure, 50):.2f} ms, p95 {percentile(pure, 95):.2f} ms; "
          f"person recall@1 vs exact {recall:.4f} ({hits}/{len(queries)})")
    return recall, p50


def probe_add_and_delete(directory: Directory, rng: np.random.Generator, number: int, nearest) -> tuple[float, float]:
    """A probe person: one face added (``nearest(vector, k)``, the persons a fresh search
    returns, must name it at once), then the person deleted (never returned afterwards);
    returns the add call's and the delete call's milliseconds."""
    from shared.directory import faces, persons
    from shared.directory.faces import NewFace

    person_id = persons.enrol([persons.NewPerson(f"probe-{number}")])[0]
    vector = rng.normal(0, 0.7 / np.sqrt(DIMS), DIMS).astype(np.float32)
    start = time.perf_counter()
    faces.add_templates(person_id, MODEL, [NewFace(directory.template(vector))])
    added = (time.perf_counter() - start) * 1000
    assert nearest(vector, 1)[:1] == [person_id], "an added face was not searchable at once"
    start = time.perf_counter()
    persons.delete(person_id)
    deleted = (time.perf_counter() - start) * 1000
    assert person_id not in nearest(vector, 5), "a deleted person was returned"
    return added, deleted


def measure_delays(directory: Directory, rng: np.random.Generator, samples: int = 20) -> None:
    """Add-to-searchable and delete-to-invisible, checked from a fresh process view."""
    from shared.directory.view import ModelView

    adds, deletes = [], []
    for i in range(samples):
        add_ms, delete_ms = probe_add_and_delete(
            directory, rng, i, lambda vector, k: [p for p, _ in ModelView(MODEL).current().search_persons(vector, k, None)])
        adds.append(add_ms)
        deletes.append(delete_ms)
    victims = rng.choice(directory.live(), size=samples, replace=False)
    for victim in victims:
        deletes.append(directory.delete(int(victim)))
        query = directory.vectors[victim, -1]
        found = ModelView(MODEL).current().search_persons(query, 5, None)
        assert directory.person_ids[victim] not in [person for person, _ in found]
    print(f"add-to-searchable: the add call (faces.add_templates, one face) p50 {percentile(adds, 50):.1f} ms, "
          f"p95 {percentile(adds, 95):.1f} ms; a fresh process view returns the face as soon as it returns")
    print(f"delete-to-invisible: the delete call (persons.delete) p50 {percentile(deletes, 50):.1f} ms, "
          f"p95 {percentile(deletes, 95):.1f} ms; a fresh process view never returns the person afterwards")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--faces-per-person", type=int, default=5)
    parser.add_argument("--delete-fraction", type=float, default=0.01)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--batch", type=int, default=10_000, help="persons per enrol call")
    parser.add_argument("--processes", type=int, default=2, help="writer processes")
    parser.add_argument("--held-batches", type=int, default=5,
                        help="batches enrolled after the compaction worker stops, so the first measurement "
                             "sees a large delta")
    args = parser.parse_args()
    azurite, connection = start_azurite(None)
    try:
        configure(connection)
        run(args)
    finally:
        azurite.terminate()
        azurite.wait(timeout=30)


def run(args) -> None:
    from shared.directory import compaction, journal
    from shared.index.params import IndexParams

    rng = np.random.default_rng(11)
    persons = args.faces // args.faces_per_person
    print(f"directory benchmark: {persons:,} persons x {args.faces_per_person} faces, delta limit "
          f"{journal.delta_limit():,}, {args.processes} writer processes, batches of {args.batch} persons", flush=True)
    directory = Directory(synthetic_vectors(persons, args.faces_per_person + 1, DIMS, rng))
    compactor = Compactor()
    compactor.thread.start()
    hold_from = persons - args.held_batches * args.batch  # the worker stops once this many are in
    print(f"the compaction worker stops after {max(hold_from, 0):,} persons: the last {args.held_batches} "
          f"batches stay in the delta until the compaction measured below", flush=True)
    load(directory, args.faces_per_person, args.batch, args.processes, args.delete_fraction, seed=12,
         progress=lambda done: compactor.stop.set() if done >= hold_from else None)
    compactor.stop.set()
    compactor.thread.join()
    print(f"compactions run by the worker during the load: {len(compactor.runs)} "
          f"({', '.join(f'{seconds:.1f}' for seconds in compactor.runs)} s)")
    measure_delays(directory, rng)
    measure_identify(directory, args.queries, "while the delta is large", rng)

    start = time.perf_counter()
    compaction.run({"model": MODEL})
    seconds = time.perf_counter() - start
    head = journal.read_head(MODEL)
    print(f"compaction of {head.snapshot_entries:,} journal entries into a new snapshot: {seconds:.1f} s "
          f"({IndexParams.from_env().threads} index threads)")
    recall, p50 = measure_identify(directory, args.queries, "right after the compaction", rng)
    print(f"directory {args.faces}: recall@1 {recall:.4f}, p50 {p50:.2f} ms, compaction {seconds:.0f} s")


if __name__ == "__main__":
    main()

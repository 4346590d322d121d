"""Gallery index benchmark: build, publish, load, query latency and recall at 100k / 1M faces.

    python benchmarks/bench_index.py --sizes 100000 1000000

Synthetic templates (fixed seed, so runs compare): 128-d identity centres from a standard
normal, L2-normalised; 5 samples per identity = centre + isotropic Gaussian noise of total
norm ~0.577, L2-normalised (same-identity cosine ~0.75, different ~0); queries are fresh
samples of enrolled identities. Ground truth is exact (chunked matrix products).

Publish = build + write_snapshot + chunked AES-GCM encryption (shared/index/framing.py).
Load runs in a fresh process (load_snapshot reading straight from the decrypting stream,
as the galleries do) so its peak RSS is the load's own. Latency: one query at a time on
one thread, through search_persons (identify), or search with --face-list (find-similar
in a LargeFaceList: the same vectors without persons). Last line, for the largest size:
``index N: recall@1 R, vector V, p50 Q ms, build+publish B s, load L s``, R = person
recall@1, V = vector recall@1.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.index import IndexParams, build_index, encrypt_stream, write_snapshot  # noqa: E402
from shared.index.backends import HNSWLIB_BUILD  # noqa: E402
from smoke import parse_args  # noqa: E402


DIMS, PER_IDENTITY, NOISE_NORM, SEED = 128, 5, 0.577, 20261127
AAD = b"bench-index"


def unit(rows: np.ndarray) -> np.ndarray:
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def synthetic(size: int, queries: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gallery vectors, their identities, queries and the queries' identities."""
    rng = np.random.default_rng(SEED)
    identities = size // PER_IDENTITY
    sigma = np.float32(NOISE_NORM / np.sqrt(DIMS))
    centres = unit(rng.standard_normal((identities, DIMS), dtype=np.float32))
    vectors = np.repeat(centres, PER_IDENTITY, axis=0)
    vectors += rng.standard_normal(vectors.shape, dtype=np.float32) * sigma
    who = rng.integers(0, identities, queries)
    probes = centres[who] + rng.standard_normal((queries, DIMS), dtype=np.float32) * sigma
    return unit(vectors), np.repeat(np.arange(identities), PER_IDENTITY), unit(probes), who


def exact_top1(vectors: np.ndarray, queries: np.ndarray, chunk: int = 100) -> np.ndarray:
    sq_norms = np.einsum("ij,ij->i", vectors, vectors)
    best = np.empty(len(queries), dtype=np.int64)
    for start in range(0, len(queries), chunk):
        block = queries[start:start + chunk]
        best[start:start + chunk] = np.argmin(sq_norms[None, :] - 2.0 * (block @ vectors.T), axis=1)
    return best


def brute_force_ms(vectors: np.ndarray, queries: np.ndarray) -> float:
    """p50 of one exact single-query scan (numpy, BLAS threads as configured)."""
    sq_norms = np.einsum("ij,ij->i", vectors, vectors)
    times = []
    for query in queries[:30]:
        start = time.perf_counter()
        int(np.argmin(sq_norms - 2.0 * (vectors @ query)))
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def publish(index, directory: Path) -> tuple[float, float, int, Path, bytes]:
    """Snapshot write and encryption times, encrypted size, its path and the key."""
    plain, sealed, key = directory / "snapshot.bin", directory / "snapshot.sealed", AESGCM.generate_key(256)
    start = time.perf_counter()
    write_snapshot(index, plain, temp_dir=str(directory))
    written = time.perf_counter()
    with open(plain, "rb") as src, open(sealed, "wb") as dst:
        size = encrypt_stream(AESGCM(key), src, dst, AAD)
    plain.unlink()
    return written - start, time.perf_counter() - written, size, sealed, key


_LOAD_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from shared.index import load_snapshot, open_decrypted
def high_water_mb():  # VmHWM, not ru_maxrss: that one keeps the forking parent's peak
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
before = high_water_mb()
start = time.perf_counter()
with open(sys.argv[2], "rb") as src:
    index = load_snapshot(open_decrypted(AESGCM(bytes.fromhex(sys.argv[3])), src, b"bench-index"),
                          temp_dir=sys.argv[4], authenticated=True)
done = time.perf_counter()
print(json.dumps({"load_s": done - start, "count": index.count, "kind": index.kind,
                  "peak_rss_mb": high_water_mb(), "base_rss_mb": before, "index_mb": index.nbytes / 2**20}))
"""


def load_in_child(sealed: Path, key: bytes, directory: Path) -> dict:
    repo = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", _LOAD_CHILD, repo, str(sealed), key.hex(), str(directory)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def measure_queries(index, queries: np.ndarray, truth: np.ndarray, identities: np.ndarray, ef: int,
                    face_list: bool) -> dict:
    """Single-query latency (one thread) of identify (search_persons) or, for a face list,
    find-similar (search), and both recalls (a face list's person = the face's identity)."""
    times, cpu_times, vector_hits, person_hits = [], [], 0, 0
    for query, row in zip(queries, truth):
        start, cpu_start = time.perf_counter(), time.thread_time()
        if face_list:
            face = index.search(query, k=1, ef=ef)[0][0]
        else:
            person = index.search_persons(query, k=1, ef=ef)[0][0]
        times.append(time.perf_counter() - start)
        cpu_times.append(time.thread_time() - cpu_start)
        if not face_list:
            person_hits += person.person_id == _person_id(int(identities[row]))
            face = index.search(query, k=1, ef=ef)[0][0]
        else:
            person_hits += identities[face.label] == identities[row]
        vector_hits += face.label == row
    ms = np.array(times) * 1e3
    return {"ef": ef, "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "cpu_p50_ms": float(np.median(cpu_times) * 1e3),
            "vector_recall": vector_hits / len(queries), "person_recall": person_hits / len(queries)}


def _person_id(identity: int) -> str:
    return f"{identity:08x}-0000-4000-8000-{identity:012x}"


def _face_id(row: int) -> str:
    return f"{row:08x}-0000-4000-9000-{row:012x}"


def run(size: int, args: argparse.Namespace) -> dict:
    print(f"--- {size} faces", flush=True)
    vectors, identities, queries, _ = synthetic(size, args.queries)
    truth = exact_top1(vectors, queries)
    print(f"brute force numpy float32 single query: p50 {brute_force_ms(vectors, queries):.2f} ms", flush=True)
    base = IndexParams.from_env()
    params = replace(base, m=args.m or base.m, ef_construction=args.ef_construction or base.ef_construction)
    face_ids = [_face_id(i) for i in range(size)]
    person_ids = [None] * size if args.face_list else [_person_id(int(i)) for i in identities]
    start, cpu_start = time.perf_counter(), time.process_time()
    index = build_index(vectors, np.arange(size), face_ids, person_ids, params)
    build_s, build_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    del face_ids, person_ids
    # CPU seconds / threads is what the build takes on dedicated cores; wall time
    # includes whatever else the machine runs.
    print(f"build ({index.kind}, hnswlib {HNSWLIB_BUILD}, M={params.m}, ef_construction={params.ef_construction}, "
          f"{params.threads} threads): {build_s:.1f} s wall, {build_cpu_s:.1f} CPU s", flush=True)
    with tempfile.TemporaryDirectory(dir=args.temp_dir) as tmp:
        write_s, encrypt_s, sealed_size, sealed, key = publish(index, Path(tmp))
        print(f"snapshot write {write_s:.1f} s, encrypt {encrypt_s:.1f} s, size {sealed_size / 2**20:.0f} MiB",
              flush=True)
        loaded = load_in_child(sealed, key, Path(tmp))
    print(f"load (decrypting) in a fresh process: {loaded['load_s']:.2f} s, "
          f"peak RSS {loaded['peak_rss_mb']:.0f} MiB (before load {loaded['base_rss_mb']:.0f} MiB, "
          f"index {loaded['index_mb']:.0f} MiB)", flush=True)
    chosen = params.ef_for(index.backend.nodes)
    sweep = sorted(set(args.ef or []) | {chosen})
    results = {}
    for ef in sweep:
        results[ef] = measure_queries(index, queries, truth, identities, ef, args.face_list)
        r = results[ef]
        print(f"ef={ef}{' (chosen)' if ef == chosen else ''}: p50 {r['p50_ms']:.3f} ms, p95 {r['p95_ms']:.3f} ms, "
              f"(CPU p50 {r['cpu_p50_ms']:.3f} ms), vector recall@1 {r['vector_recall']:.4f}, "
              f"person recall@1 {r['person_recall']:.4f}", flush=True)
    return {"size": size, "build_publish_s": build_s + write_s + encrypt_s, "load_s": loaded["load_s"],
            **results[chosen]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--ef", type=int, nargs="*", help="extra ef values to sweep besides the chosen one")
    parser.add_argument("--m", type=int, help="override FACE_INDEX_M")
    parser.add_argument("--ef-construction", type=int, help="override FACE_INDEX_EF_CONSTRUCTION")
    parser.add_argument("--face-list", action="store_true", help="no persons: a LargeFaceList's find-similar")
    parser.add_argument("--temp-dir", default=os.environ.get("TMPDIR"))
    args = parse_args(parser, sizes=[2000], queries=50)

    summary = [run(size, args) for size in args.sizes]
    last = summary[-1]
    print(f"index {last['size']}: recall@1 {last['person_recall']:.4f}, vector {last['vector_recall']:.4f}, "
          f"p50 {last['p50_ms']:.2f} ms, build+publish {last['build_publish_s']:.0f} s, load {last['load_s']:.2f} s")


if __name__ == "__main__":
    main()

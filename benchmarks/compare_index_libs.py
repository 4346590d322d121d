"""Nearest-neighbour libraries side by side on bench_index's synthetic faces (same seed).

    pip install faiss-cpu==1.15.1 usearch==2.26.6   # not project dependencies: comparison only
    python benchmarks/compare_index_libs.py --size 200000 --engines hnswlib-faces faiss-hnsw ...

Each engine indexes the faces themselves (no persons), is built on 2 threads and queried on
one, one query at a time; its top candidates (--candidates) are re-ranked exactly with the
full-precision vectors, so quantised engines are judged on what they would return. Per
search effort (hnswlib/faiss/usearch ef, faiss IVF nprobe): p50 latency (search + re-rank),
vector recall@1 (top face = exact top face) and person recall@1 (top face's identity =
the exact top face's). `grouped` is shared/index's own grouped graph (build_index).
The hnswlib build in use (x86_64_v3 or portable, FACE_INDEX_CPU_VARIANT) is printed.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_index import exact_top1, synthetic  # noqa: E402

from shared.index import IndexParams, build_index  # noqa: E402
from shared.index.backends import HNSWLIB_BUILD, build_graph  # noqa: E402
from smoke import parse_args  # noqa: E402


def hnswlib_faces(vectors, args):
    graph = build_graph(vectors, args.m, args.construction, 2)
    graph.set_ef(1)
    return lambda q, ef, c: graph.knn_query(q[None], k=max(ef, c), num_threads=1)[0][0, :c].astype(np.int64)


def grouped(vectors, args):
    persons = [str(i // 5) for i in range(len(vectors))]
    params = IndexParams(m=args.m, ef_construction=args.construction, exact_threshold=0)
    index = build_index(vectors, np.arange(len(vectors)), [str(i) for i in range(len(vectors))], persons, params)
    return lambda q, ef, c: np.array([m.label for m in index.search(q, k=c, ef=ef)[0]], dtype=np.int64)


def _faiss():
    import faiss

    faiss.omp_set_num_threads(2)
    return faiss


def faiss_hnsw(vectors, args, sq8: bool = False):
    faiss = _faiss()
    d = vectors.shape[1]
    index = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, args.m) if sq8 else faiss.IndexHNSWFlat(d, args.m)
    index.hnsw.efConstruction = args.construction
    if sq8:
        index.train(vectors)
    index.add(vectors)
    faiss.omp_set_num_threads(1)

    def search(q, ef, c):
        return index.search(q[None], c, params=faiss.SearchParametersHNSW(efSearch=max(ef, c)))[1][0]
    return search


def faiss_ivf(vectors, args):
    faiss = _faiss()
    d = vectors.shape[1]
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(d), d, args.nlist)
    sample = vectors[np.random.default_rng(1).choice(len(vectors), min(len(vectors), 64 * args.nlist), False)]
    index.train(sample)
    index.add(vectors)
    faiss.omp_set_num_threads(1)
    return lambda q, nprobe, c: index.search(q[None], c, params=faiss.SearchParametersIVF(nprobe=nprobe))[1][0]


def usearch(vectors, args, dtype: str):
    from usearch.index import Index

    index = Index(ndim=vectors.shape[1], metric="l2sq", dtype=dtype, connectivity=args.m,
                  expansion_add=args.construction)
    index.add(np.arange(len(vectors)), vectors, threads=2)

    def search(q, ef, c):
        index.expansion_search = max(ef, c)
        return np.asarray(index.search(q, c, threads=1).keys, dtype=np.int64)
    return search


ENGINES = {
    "hnswlib-faces": hnswlib_faces,
    "grouped": grouped,
    "faiss-hnsw": faiss_hnsw,
    "faiss-hnsw-sq8": lambda v, a: faiss_hnsw(v, a, sq8=True),
    "faiss-ivf": faiss_ivf,
    "usearch-f32": lambda v, a: usearch(v, a, "f32"),
    "usearch-f16": lambda v, a: usearch(v, a, "f16"),
    "usearch-i8": lambda v, a: usearch(v, a, "i8"),
}


def measure(search, vectors, queries, truth, identities, effort: int, candidates: int) -> str:
    times, vector_hits, person_hits = [], 0, 0
    for query, row in zip(queries, truth):
        start = time.perf_counter()
        rows = search(query, effort, candidates)
        rows = rows[rows >= 0]
        diff = vectors[rows] - query
        best = int(rows[np.argmin(np.einsum("ij,ij->i", diff, diff))])
        times.append(time.perf_counter() - start)
        vector_hits += best == row
        person_hits += identities[best] == identities[row]
    n = len(queries)
    return (f"effort {effort}: p50 {np.median(times) * 1e3:.3f} ms, vector recall@1 {vector_hits / n:.4f}, "
            f"person recall@1 {person_hits / n:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--engines", nargs="+", choices=list(ENGINES), default=list(ENGINES))
    parser.add_argument("--m", type=int, default=32, help="graph degree (hnswlib M, faiss M, usearch connectivity)")
    parser.add_argument("--construction", type=int, default=48, help="ef_construction / usearch expansion_add")
    parser.add_argument("--nlist", type=int, default=1024, help="faiss IVF lists")
    parser.add_argument("--efforts", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--candidates", type=int, default=10, help="candidates re-ranked exactly")
    args = parse_args(parser, size=2000, queries=50, nlist=16, efforts=[16])
    vectors, identities, queries, _ = synthetic(args.size, args.queries)
    truth = exact_top1(vectors, queries)
    print(f"{args.size} faces, hnswlib build {HNSWLIB_BUILD}, M {args.m}, construction {args.construction}", flush=True)
    measured, missing = [], []
    for name in args.engines:
        start = time.perf_counter()
        try:
            search = ENGINES[name](vectors, args)
        except ModuleNotFoundError as exc:  # faiss and usearch are installed by `make compare-index-libs` only
            print(f"{name}: skipped, {exc.name} is not installed", flush=True)
            missing.append(name)
            continue
        print(f"{name}: build {time.perf_counter() - start:.1f} s (2 threads)", flush=True)
        for effort in args.efforts:
            print(f"  {name} {measure(search, vectors, queries, truth, identities, effort, args.candidates)}",
                  flush=True)
        measured.append(name)
    print(f"compared on {args.size} faces: {', '.join(measured)}; not installed: {', '.join(missing) or 'none'}")



if __name__ == "__main__":
    main()

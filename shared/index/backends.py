"""The two nearest-neighbour engines behind a gallery: brute force and HNSW.

Both answer ``knn(queries, k, ef, row_filter)`` with internal rows and SQUARED L2
distances, nearest first; rows hidden by the filter are never returned.
"""
from __future__ import annotations

from pathlib import Path

import hnswlib
import numpy as np

from shared.index.labels import RowFilter

Neighbours = tuple[np.ndarray, np.ndarray]  # rows int64 (q, k), squared distances float32 (q, k)


class ExactBackend:
    """Brute-force scan: exact, no build cost, and faster than HNSW on small galleries."""

    kind = "exact"

    def __init__(self, vectors: np.ndarray):
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._sq_norms = np.einsum("ij,ij->i", self.vectors, self.vectors)

    @property
    def nbytes(self) -> int:
        return self.vectors.nbytes + self._sq_norms.nbytes

    def vectors_at(self, rows: np.ndarray) -> np.ndarray:
        return self.vectors[rows]

    def knn(self, queries: np.ndarray, k: int, ef: int, row_filter: RowFilter | None) -> Neighbours:
        # |x - q|^2 = |x|^2 - 2 x.q + |q|^2, one matrix product for all queries.
        sq = self._sq_norms[None, :] - 2.0 * (queries @ self.vectors.T)
        sq += np.einsum("ij,ij->i", queries, queries)[:, None]
        if row_filter is not None:
            sq[:, row_filter.mask()] = np.inf
            k = min(k, sq.shape[1] - row_filter.hidden)
        k = min(k, sq.shape[1])
        if k == 0:
            return np.empty((len(queries), 0), np.int64), np.empty((len(queries), 0), np.float32)
        rows = np.argpartition(sq, k - 1, axis=1)[:, :k]
        # The expanded form loses precision to cancellation (a vector's distance to
        # itself comes out ~1e-3, not 0); recompute the few winners directly.
        diff = self.vectors[rows] - queries[:, None, :]
        exact = np.einsum("qkd,qkd->qk", diff, diff)
        order = np.argsort(exact, axis=1, kind="stable")
        return np.take_along_axis(rows, order, axis=1).astype(np.int64), np.take_along_axis(exact, order, axis=1)


class HnswBackend:
    """hnswlib graph in space 'l2' (which reports squared distances)."""

    kind = "hnsw"

    def __init__(self, index: hnswlib.Index, query_threads: int):
        # ef_ stays 1: hnswlib searches with max(ef_, k), so asking for k = ef results
        # gives a per-query ef without mutating state shared by concurrent queries.
        index.set_ef(1)
        self.index = index
        self.query_threads = query_threads

    @classmethod
    def build(cls, vectors: np.ndarray, m: int, ef_construction: int, threads: int) -> "HnswBackend":
        index = hnswlib.Index(space="l2", dim=vectors.shape[1])
        index.init_index(max_elements=len(vectors), M=m, ef_construction=ef_construction, random_seed=100)
        index.add_items(vectors, np.arange(len(vectors), dtype=np.int64), num_threads=threads)
        return cls(index, threads)

    @classmethod
    def load(cls, path: Path, dims: int, count: int, query_threads: int) -> "HnswBackend":
        index = hnswlib.Index(space="l2", dim=dims)
        index.load_index(str(path), max_elements=count)
        return cls(index, query_threads)

    def save(self, path: Path) -> None:
        self.index.save_index(str(path))

    @property
    def nbytes(self) -> int:
        return int(self.index.index_file_size())

    def vectors_at(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.index.get_items(rows), dtype=np.float32).reshape(len(rows), -1)

    def knn(self, queries: np.ndarray, k: int, ef: int, row_filter: RowFilter | None) -> Neighbours:
        allowed = self.index.element_count - (0 if row_filter is None else row_filter.hidden)
        # hnswlib raises if it cannot fill k results, so never ask for more than exist.
        fetch = min(max(k, ef), allowed)
        if fetch <= 0:
            return np.empty((len(queries), 0), np.int64), np.empty((len(queries), 0), np.float32)
        # The filter is a Python callable run per candidate: measured ~0.1 ms per query at
        # ef 64 whatever the number of hidden rows, where over-fetching and post-filtering
        # grows with it (docs/index.md).
        rows, sq = self.index.knn_query(
            queries,
            k=fetch,
            num_threads=1 if len(queries) == 1 else self.query_threads,
            filter=None if row_filter is None else row_filter.allows,
        )
        return rows[:, :k].astype(np.int64), np.maximum(sq[:, :k], 0.0)

"""The nearest-neighbour engines behind a gallery: brute force, an HNSW graph of faces, and
an HNSW graph of face groups (persons) with an exact re-rank.

All answer ``knn(queries, k, ef, row_filter)`` with internal rows and SQUARED L2
distances, nearest first; rows hidden by the filter are never returned.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from shared.index.labels import RowFilter
from shared.index.native import load_hnswlib

hnswlib, HNSWLIB_BUILD = load_hnswlib()

Neighbours = tuple[np.ndarray, np.ndarray]  # rows int64 (q, k), squared distances float32 (q, k)


def _empty(queries: np.ndarray) -> Neighbours:
    return np.empty((len(queries), 0), np.int64), np.empty((len(queries), 0), np.float32)


class ExactBackend:
    """Brute-force scan: exact, no build cost, and faster than HNSW on small galleries."""

    kind = "exact"

    def __init__(self, vectors: np.ndarray):
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._sq_norms = np.einsum("ij,ij->i", self.vectors, self.vectors)

    @property
    def nbytes(self) -> int:
        return self.vectors.nbytes + self._sq_norms.nbytes

    @property
    def nodes(self) -> int:
        return len(self.vectors)

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
            return _empty(queries)
        rows = np.argpartition(sq, k - 1, axis=1)[:, :k]
        # The expanded form loses precision to cancellation (a vector's distance to
        # itself comes out ~1e-3, not 0); recompute the few winners directly.
        diff = self.vectors[rows] - queries[:, None, :]
        exact = np.einsum("qkd,qkd->qk", diff, diff)
        order = np.argsort(exact, axis=1, kind="stable")
        return np.take_along_axis(rows, order, axis=1).astype(np.int64), np.take_along_axis(exact, order, axis=1)


def build_graph(points: np.ndarray, m: int, ef_construction: int, threads: int):
    """An hnswlib graph in space 'l2' (squared distances) labelled 0..len(points)-1."""
    graph = hnswlib.Index(space="l2", dim=points.shape[1])
    graph.init_index(max_elements=len(points), M=m, ef_construction=ef_construction, random_seed=100)
    graph.add_items(points, np.arange(len(points), dtype=np.int64), num_threads=threads)
    return graph


def search_graph(graph, queries: np.ndarray, fetch: int, threads: int, allows) -> Neighbours:
    """hnswlib's ``fetch`` nearest nodes per query (labels, squared distances), or none.

    ``allows`` is None or hnswlib's filter: a Python callable run per candidate, measured
    ~0.1 ms per query at ef 64 whatever the number of hidden nodes, where over-fetching and
    post-filtering grows with it (docs/index.md). A single query runs on the calling thread.
    """
    if fetch <= 0:
        return _empty(queries)
    return graph.knn_query(queries, k=fetch, num_threads=1 if len(queries) == 1 else threads, filter=allows)


def load_graph(path: Path, dims: int):
    graph = hnswlib.Index(space="l2", dim=dims)
    graph.load_index(str(path))  # sized as saved
    # ef_ stays 1: hnswlib searches with max(ef_, k), so asking for k = ef results
    # gives a per-query ef without mutating state shared by concurrent queries.
    graph.set_ef(1)
    return graph


class HnswBackend:
    """hnswlib graph of the faces themselves (face lists: no persons to group by)."""

    kind = "hnsw"

    def __init__(self, index, query_threads: int):
        index.set_ef(1)  # see load_graph
        self.index = index
        self.query_threads = query_threads

    @classmethod
    def build(cls, vectors: np.ndarray, m: int, ef_construction: int, threads: int) -> "HnswBackend":
        return cls(build_graph(vectors, m, ef_construction, threads), threads)

    @property
    def nbytes(self) -> int:
        return int(self.index.index_file_size())

    @property
    def nodes(self) -> int:
        return int(self.index.element_count)

    def vectors_at(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.index.get_items(rows), dtype=np.float32).reshape(len(rows), -1)

    def knn(self, queries: np.ndarray, k: int, ef: int, row_filter: RowFilter | None) -> Neighbours:
        allowed = self.index.element_count - (0 if row_filter is None else row_filter.hidden)
        # hnswlib raises if it cannot fill k results, so never ask for more than exist.
        fetch = min(max(k, ef), allowed)
        allows = None if row_filter is None else row_filter.allows
        rows, sq = search_graph(self.index, queries, fetch, self.query_threads, allows)
        return rows[:, :k].astype(np.int64), np.maximum(sq[:, :k], 0.0)


def directions(points: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length (a zero row stays zero)."""
    norms = np.linalg.norm(points, axis=1, keepdims=True)
    return np.ascontiguousarray(points / np.maximum(norms, np.finfo(np.float32).tiny), dtype=np.float32)


class GroupedBackend:
    """HNSW graph over the directions of face groups' centroids, then an exact re-rank of
    their faces.

    A group is one person's faces (split into several groups when the person has many, so a
    centroid stays near each of its faces) or a single face without a person. Rows are
    stored group by group, so group g is rows starts[g]..starts[g+1]. The graph finds the
    groups nearest the query; their full-precision faces are then scored exactly, so the
    distances (and the confidences made from them) never depend on the index. Searching
    groups instead of faces makes the graph several times smaller (5x at 5 faces per
    person: faster to build, fewer hops) and a query that reaches a person scores all of
    its faces, so the nearest face is found whenever its person is (docs/index.md).

    The graph holds each centroid's direction (unit length), and queries walk it by theirs:
    in plain L2 the centroids of short norm (persons whose faces vary most, or simply short
    templates) sit near everything and draw the greedy walk away from the answer (hubness);
    at 200,000 persons of near-isotropic 128-d templates that walk found the nearest person
    0.86 of the time at ef 96, the walk over directions 0.999 (docs/index.md). Snapshots
    written before (format 2) hold raw centroids: ``directions=False`` walks those as built.
    """

    kind = "grouped"

    def __init__(self, graph, vectors: np.ndarray, starts: np.ndarray, group_codes: np.ndarray,
                 query_threads: int, rerank_groups: int, directions: bool = True):
        graph.set_ef(1)  # see load_graph
        self.graph = graph
        self.vectors = vectors
        self.starts = starts
        self.group_codes = group_codes  # person code per group, -1 = a face without person
        self.query_threads = query_threads
        self.rerank_groups = rerank_groups
        self.directions = directions

    @classmethod
    def build(cls, vectors: np.ndarray, starts: np.ndarray, group_codes: np.ndarray, m: int,
              ef_construction: int, threads: int, rerank_groups: int) -> "GroupedBackend":
        centroids = np.add.reduceat(vectors, starts[:-1], axis=0)  # the sum points where the mean does
        return cls(build_graph(directions(centroids), m, ef_construction, threads), vectors, starts, group_codes,
                   threads, rerank_groups)

    @property
    def groups(self) -> int:
        return int(self.starts.size - 1)

    nodes = groups

    @property
    def nbytes(self) -> int:
        return int(self.graph.index_file_size()) + self.vectors.nbytes + self.starts.nbytes + self.group_codes.nbytes

    def vectors_at(self, rows: np.ndarray) -> np.ndarray:
        return self.vectors[rows]

    @cached_property
    def groups_per_code(self) -> np.ndarray:
        coded = self.group_codes[self.group_codes >= 0]
        return np.bincount(coded, minlength=int(coded.max()) + 1 if coded.size else 0)

    def knn(self, queries: np.ndarray, k: int, ef: int, row_filter: RowFilter | None) -> Neighbours:
        hidden = _GroupsHidden.of(self, row_filter)
        # k groups hold at least k faces; hnswlib raises if it cannot fill the request, so
        # never ask for more groups than the filter lets through.
        fetch = min(max(ef, self.rerank_groups, k), self.groups - hidden.count)
        if fetch <= 0:
            return _empty(queries)
        walk = directions(queries) if self.directions else queries
        ranked, _ = search_graph(self.graph, walk, fetch, self.query_threads, hidden.allows)
        found = [self._rerank(query, groups.astype(np.int64), k, hidden.deleted)
                 for query, groups in zip(queries, ranked)]
        return [rows for rows, _ in found], [sq for _, sq in found]

    def _rerank(self, query: np.ndarray, groups: np.ndarray, k: int, deleted: np.ndarray):
        """Exact top k faces of every group the walk returned. The walk ranks groups by their
        centroid's direction, not by their nearest face, so all of its ef candidates are
        scored (~0.05 ms for 91 groups of 5); each holds a face that is not deleted, so k
        groups hold k faces."""
        sizes = self.starts[groups + 1] - self.starts[groups]
        rows = np.repeat(self.starts[groups] - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
        if deleted.size:
            rows = rows[deleted[np.searchsorted(deleted, rows).clip(max=deleted.size - 1)] != rows]
        diff = self.vectors[rows] - query
        sq = np.einsum("ij,ij->i", diff, diff)
        order = np.argsort(sq, kind="stable")[:k]
        return rows[order], sq[order]


@dataclass(frozen=True)
class _GroupsHidden:
    """What a row filter hides of a grouped graph: the graph filter, the number of groups it
    hides and the faces deleted one by one (sorted, dropped in the re-rank)."""

    allows: Callable[[int], bool] | None = None
    count: int = 0
    deleted: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    @classmethod
    def of(cls, backend: GroupedBackend, row_filter: RowFilter | None) -> "_GroupsHidden":
        if row_filter is None:
            return cls()
        found = row_filter.derived.get(cls)
        if found is None:
            found = row_filter.derived[cls] = cls._made(backend, row_filter)
        return found

    @classmethod
    def _made(cls, backend: GroupedBackend, row_filter: RowFilter) -> "_GroupsHidden":
        deleted = row_filter.deleted_rows
        groups, counts = np.unique(np.searchsorted(backend.starts, deleted, "right") - 1, return_counts=True)
        # Groups whose faces are all deleted are hidden in the graph like deleted persons,
        # so every group the graph returns still holds a face.
        emptied = frozenset(g for g, n in zip(groups.tolist(), counts.tolist())
                            if n == backend.starts[g + 1] - backend.starts[g]
                            and row_filter.allows_code(int(backend.group_codes[g])))
        no_person = int(np.count_nonzero(backend.group_codes < 0))
        count = row_filter.hidden_by_person(backend.groups_per_code, no_person) + len(emptied)
        return cls(row_filter.group_filter(backend.group_codes, emptied), count, deleted)

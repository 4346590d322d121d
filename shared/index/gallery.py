"""GalleryIndex: 1:N search over one container's templates (face list or person group)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shared.index.backends import ExactBackend, GroupedBackend, HnswBackend
from shared.index.groups import plan_groups
from shared.index.labels import NO_EXCLUSIONS, Exclusions, LabelMap, RowFilter
from shared.index.params import IndexParams


@dataclass(frozen=True)
class FaceMatch:
    face_id: str
    person_id: str | None
    label: int
    distance: float  # Euclidean (not squared)


@dataclass(frozen=True)
class PersonMatch:
    person_id: str
    distance: float  # of the person's nearest face
    face_id: str  # that nearest face
    label: int


@dataclass(frozen=True)
class PreparedExclusions:
    """Exclusions resolved against one index (GalleryIndex.prepare), for many queries."""

    labels: LabelMap
    row_filter: RowFilter | None


@dataclass(frozen=True)
class EmbedderInfo:
    """Which network made the vectors; a query must come from the same one."""

    name: str = ""
    version: str = ""


class GalleryIndex:
    def __init__(
        self,
        backend: ExactBackend | HnswBackend | GroupedBackend,
        labels: LabelMap,
        dims: int,
        params: IndexParams,
        embedder: EmbedderInfo,
    ):
        self.backend = backend
        self.labels = labels
        self.dims = dims
        self.params = params
        self.embedder = embedder

    @property
    def count(self) -> int:
        return len(self.labels)

    @property
    def kind(self) -> str:
        return self.backend.kind

    @property
    def nbytes(self) -> int:
        """Approximate resident size, for cache budgeting."""
        arrays = (self.labels.labels, self.labels.face_ids, self.labels.person_codes, self.labels.persons)
        return self.backend.nbytes + sum(a.nbytes for a in arrays)

    def _queries(self, query: np.ndarray) -> np.ndarray:
        queries = np.asarray(query, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        if queries.ndim != 2 or queries.shape[1] != self.dims:
            raise ValueError(f"query shape {np.shape(query)} does not match index dimension {self.dims}")
        return np.ascontiguousarray(queries)

    def prepare(self, exclude: Exclusions) -> PreparedExclusions:
        """``exclude`` resolved once for many queries: finding thousands of removed ids among a
        million costs about a millisecond, which a query then does not pay again."""
        return PreparedExclusions(self.labels, self.labels.row_filter(exclude))

    def _row_filter(self, exclude: Exclusions | PreparedExclusions) -> RowFilter | None:
        if not isinstance(exclude, PreparedExclusions):
            return self.labels.row_filter(exclude)
        if exclude.labels is not self.labels:
            raise ValueError("the exclusions were prepared for another index")
        return exclude.row_filter

    def _neighbours(self, query: np.ndarray, k: int, ef: int | None, exclude: Exclusions | PreparedExclusions):
        if k < 1:
            raise ValueError(f"k must be positive, got {k}")
        queries = self._queries(query)
        ef = self.params.ef_for(self.backend.nodes) if ef is None else ef
        row_filter = self._row_filter(exclude)
        if row_filter is not None and row_filter.allowed_codes is not None and self.kind != ExactBackend.kind \
                and self.count - row_filter.hidden <= self.params.exact_threshold:
            # A graph walk restricted to a few persons visits most of the graph before it
            # finds them; scanning their own vectors is exact and far cheaper.
            return self._scan(queries, k, self.labels.allowed_rows(row_filter))
        rows, sq = self.backend.knn(queries, k, ef, row_filter)
        return rows, [np.sqrt(s) for s in sq]

    def _scan(self, queries: np.ndarray, k: int, rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        if rows.size == 0:
            return np.empty((len(queries), 0), np.int64), [np.empty(0, np.float32) for _ in queries]
        local, sq = ExactBackend(self.backend.vectors_at(rows)).knn(queries, k, 0, None)
        return rows[local], [np.sqrt(s) for s in sq]

    def search(
        self, query: np.ndarray, k: int = 1, ef: int | None = None,
        exclude: Exclusions | PreparedExclusions = NO_EXCLUSIONS,
    ) -> list[list[FaceMatch]]:
        """The k nearest faces for each query row (a (d,) query counts as one row).

        ``ef`` defaults to the size-scaled value of the index params; rows hidden by
        ``exclude`` (or by exclusions this index prepared) are never returned.
        """
        rows, dist = self._neighbours(query, k, ef, exclude)
        return [[self._face(int(r), float(d)) for r, d in zip(rr, dd)] for rr, dd in zip(rows, dist)]

    def search_persons(
        self,
        query: np.ndarray,
        k: int = 1,
        ef: int | None = None,
        exclude: Exclusions | PreparedExclusions = NO_EXCLUSIONS,
    ) -> list[list[PersonMatch]]:
        """The k nearest persons per query row, each scored by its nearest face.

        Fetches (k - 1) * (the most faces any person has) + 1 faces: even if the k - 1 best
        persons fill the list with all their faces, the k-th person's best face still makes
        it. Faces without a person are ignored (and the fetch grows by their number, as
        they could fill it too).
        """
        if k < 1:
            raise ValueError(f"k must be positive, got {k}")
        if self.labels.persons.size == 0:
            return [[] for _ in self._queries(query)]
        fetch = (k - 1) * self.labels.max_faces_per_person + 1 + self.labels.faces_without_person
        rows, dist = self._neighbours(query, fetch, ef, exclude)
        return [self._group(rr, dd, k) for rr, dd in zip(rows, dist)]

    def _group(self, rows: np.ndarray, dist: np.ndarray, k: int) -> list[PersonMatch]:
        # Rows arrive nearest first, so a person's first row is its best face.
        matches: dict[int, PersonMatch] = {}
        codes = self.labels.person_codes[rows]
        for row, code, d in zip(rows.tolist(), codes.tolist(), dist.tolist()):
            if code < 0 or code in matches:
                continue
            matches[code] = PersonMatch(
                self.labels.persons[code].decode("utf-8"), d, self.labels.face_id(row), int(self.labels.labels[row])
            )
            if len(matches) == k:
                break
        return list(matches.values())

    def _face(self, row: int, distance: float) -> FaceMatch:
        return FaceMatch(self.labels.face_id(row), self.labels.person_id(row), int(self.labels.labels[row]), distance)


def build_index(
    vectors: np.ndarray,
    labels: Sequence[int] | np.ndarray,
    face_ids: Sequence[str],
    person_ids: Sequence[str | None],
    params: IndexParams | None = None,
    embedder: EmbedderInfo = EmbedderInfo(),
) -> GalleryIndex:
    """Index ``vectors`` (n, d) float32; row i is face ``face_ids[i]`` of ``person_ids[i]``.

    Galleries below ``params.exact_threshold`` use brute force; larger ones an HNSW graph
    built on ``params.threads`` threads (FACE_INDEX_THREADS): of face groups (persons) with
    an exact re-rank when faces share persons, of the faces themselves otherwise. Row
    order inside the index is its own; labels and ids map results back.
    """
    params = params or IndexParams.from_env()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be (n, d), got shape {vectors.shape}")
    label_map = LabelMap.create(labels, face_ids, person_ids)
    if len(label_map) != len(vectors):
        raise ValueError(f"{len(vectors)} vectors but {len(label_map)} ids")
    if not np.isfinite(vectors).all():
        raise ValueError("vectors contain NaN or infinity")
    if len(vectors) < max(params.exact_threshold, 1):  # hnswlib cannot hold an empty graph
        return GalleryIndex(ExactBackend(vectors), label_map, vectors.shape[1], params, embedder)
    order, starts = plan_groups(vectors, label_map.person_codes, max(params.group_faces, 1))
    if params.group_faces < 1 or starts.size - 1 > len(vectors) // 2:
        # Mostly single faces (a face list): a graph of groups would be a graph of faces
        # that also stores every vector a second time.
        backend = HnswBackend.build(vectors, params.m, params.ef_construction, params.threads)
        return GalleryIndex(backend, label_map, vectors.shape[1], params, embedder)
    label_map, vectors = label_map.take(order), vectors[order]
    backend = GroupedBackend.build(vectors, starts, label_map.person_codes[starts[:-1]], params.m,
                                   params.ef_construction, params.threads, params.rerank_groups)
    return GalleryIndex(backend, label_map, vectors.shape[1], params, embedder)

"""Searchable templates in PostgreSQL: write, remove, search (the engine behind FACE_SEARCH_ENGINE=postgres).

Callers name a *container* (``directory_container``, ``gallery_container``) and an *owner* (the
person, or for a face-list face the face itself): the owner is the distribution column and the
row every write locks first, so a write and a removal of one owner never interleave.

Distances are Euclidean (``<->``), as the embedded engine's: a confidence never depends on the
engine, and unnormalised templates (dlib's) rank as they do everywhere else. Each search picks
its plan explicitly: an exact scan of the container's (or the allowed persons') rows when they
are few, otherwise the cosine HNSW index of the template dimension, walked (with iterative
scans, so a filter - container, allowed persons, trained generation - still fills the answer)
for a few times more candidates than asked, which the same statement re-ranks by Euclidean
distance.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from psycopg import sql

from shared.postgres import config, schema
from shared.postgres.connection import read_together, transaction
from shared.postgres.schema import OWNERS, REMOVALS, VECTORS
from shared.storage import naming

DIRECTORY, GALLERY = "dir:", "gal:"
_MAX_FETCH = 4000  # faces one HNSW person search reads at most, widening 4x per round
_CANDIDATES = 2  # the cosine walk returns this many times the faces asked for, re-ranked by L2
_ROWS_PER_STATEMENT = 500  # vectors per INSERT: each statement well inside the statement timeout


class OwnerRemoved(Exception):
    """The person (or face-list face) was removed: nothing of it may be written again."""


@dataclass(frozen=True)
class NewVector:
    face_id: str
    person_id: str  # "" for a face-list face
    vector: np.ndarray


def directory_container(model: str) -> str:
    """The PersonDirectory's faces of one recognition model. Container names carry
    FACE_STORAGE_PREFIX, as table names do: deployments (or test runs) sharing a database stay apart."""
    return f"{DIRECTORY}{naming.prefix()}:{model}"


def gallery_container(incarnation: str) -> str:
    """A LargePersonGroup's or LargeFaceList's faces (the incarnation: a re-created id is another)."""
    return f"{GALLERY}{naming.prefix()}:{incarnation}"


def own_containers(names: Collection[str]) -> tuple[list[str], list[str]]:
    """This storage prefix's directory and gallery containers among ``names``."""
    prefix = naming.prefix()
    return ([name for name in names if name.startswith(f"{DIRECTORY}{prefix}:")],
            [name for name in names if name.startswith(f"{GALLERY}{prefix}:")])


def literal(vector: np.ndarray) -> str:
    """pgvector's text form of a template (float32 values, exactly)."""
    return "[" + ",".join(map(str, np.asarray(vector, np.float32).ravel().tolist())) + "]"


def _lock_owner(conn, owner: str, container: str, remove: bool = False):
    """Lock the owner row (created if new); returns when it was removed (None: live)."""
    removed = "coalesce({o}.removed_at, now())" if remove else "{o}.removed_at"
    statement = sql.SQL(f"INSERT INTO {{o}} (shard_key, container, removed_at) VALUES (%s, %s, %s) "
                        f"ON CONFLICT (shard_key, container) DO UPDATE SET removed_at = {removed} "
                        f"RETURNING removed_at").format(o=sql.Identifier(OWNERS))
    return conn.execute(statement, (owner, container, "now" if remove else None)).fetchone()[0]


def add(container: str, owner: str, faces: Sequence[NewVector], generation: int = 0) -> None:
    """Make ``faces`` of one owner searchable (already present: unchanged); OwnerRemoved, with
    nothing written, when the owner was removed. Faces removed before are never written again."""
    if add_many(container, {owner: list(faces)}, generation):
        raise OwnerRemoved(owner)


def add_many(container: str, faces: dict[str, list[NewVector]], generation: int = 0) -> set[str]:
    """``add`` for many owners in one transaction (bulk enrolment, rebuilds); returns the owners
    found removed, whose faces were not written."""
    faces = {owner: items for owner, items in faces.items() if items}
    if not faces:
        return set()
    dims = {np.asarray(face.vector).size for items in faces.values() for face in items}
    if len(dims) != 1:
        raise ValueError(f"templates of several dimensions in one container: {sorted(dims)}")
    dims = dims.pop()
    owners = sorted(faces)  # locked in one order: concurrent batches never deadlock
    rows = [(owner, face) for owner in owners for face in faces[owner]]
    with transaction() as conn:
        schema.ensure_dimension(conn, dims)
        removed = {owner for owner, removed_at in conn.execute(sql.SQL(
            "INSERT INTO {o} (shard_key, container) SELECT unnest(%s::text[]), %s ORDER BY 1 "
            "ON CONFLICT (shard_key, container) DO UPDATE SET removed_at = {o}.removed_at "
            "RETURNING shard_key, removed_at").format(o=sql.Identifier(OWNERS)), (owners, container))
            if removed_at is not None}
        rows = [(owner, face) for owner, face in rows if owner not in removed]
        insert = sql.SQL(
            "INSERT INTO {v} (shard_key, container, face_id, person_id, generation, dims, embedding) "
            "SELECT new.owner, %s, new.face_id, new.person_id, %s, %s, new.embedding::vector "
            "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) AS new(owner, face_id, person_id, embedding) "
            "WHERE NOT EXISTS (SELECT 1 FROM {r} WHERE {r}.shard_key = new.owner AND {r}.container = %s "
            "AND {r}.face_id = new.face_id) "
            "ON CONFLICT (shard_key, container, face_id) DO NOTHING").format(
            v=sql.Identifier(VECTORS), r=sql.Identifier(REMOVALS))
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):  # each HNSW insertion costs ~1-3 ms
            chunk = rows[start:start + _ROWS_PER_STATEMENT]
            conn.execute(insert, (container, generation, dims, [owner for owner, _ in chunk],
                                  [face.face_id for _, face in chunk], [face.person_id for _, face in chunk],
                                  [literal(face.vector) for _, face in chunk], container))
    return removed


def remove_faces(container: str, owner: str, face_ids: Collection[str]) -> None:
    """Remove faces (gone from the next search on any instance) and remember their ids."""
    if not face_ids:
        return
    with transaction() as conn:
        _lock_owner(conn, owner, container)
        with conn.cursor() as cursor:
            cursor.executemany(sql.SQL("INSERT INTO {} (shard_key, container, face_id) VALUES (%s, %s, %s) "
                                       "ON CONFLICT DO NOTHING").format(sql.Identifier(REMOVALS)),
                               [(owner, container, face_id) for face_id in face_ids])
        conn.execute(sql.SQL("DELETE FROM {} WHERE shard_key = %s AND container = %s AND face_id = ANY(%s)").format(
            sql.Identifier(VECTORS)), (owner, container, list(face_ids)))


def forget_faces(container: str, owner: str, face_ids: Collection[str]) -> None:
    """Delete vectors whose record is missing without marking them removed: an add still
    under way (vector written, record not yet linked) may bring them back."""
    if not face_ids:
        return
    with transaction() as conn:
        _lock_owner(conn, owner, container)
        conn.execute(sql.SQL("DELETE FROM {} WHERE shard_key = %s AND container = %s AND face_id = ANY(%s)").format(
            sql.Identifier(VECTORS)), (owner, container, list(face_ids)))


def remove_owner(containers: Collection[str], owner: str) -> None:
    """Remove a person (in each of ``containers``) with every face it has or will be added."""
    with transaction() as conn:
        for container in containers:
            _lock_owner(conn, owner, container, remove=True)
            conn.execute(sql.SQL("DELETE FROM {} WHERE shard_key = %s AND container = %s").format(
                sql.Identifier(VECTORS)), (owner, container))


def drop_container(container: str) -> None:
    """Every row of a deleted container (its id is never used again)."""
    with transaction() as conn:
        for table in (VECTORS, OWNERS, REMOVALS):
            conn.execute(sql.SQL("DELETE FROM {} WHERE container = %s").format(sql.Identifier(table)), (container,))


def faces_of(container: str) -> dict[str, str]:
    """face id -> owner of every searchable face of the container (reconciliation, audits)."""
    with transaction() as conn:
        rows = conn.execute(sql.SQL("SELECT face_id, shard_key FROM {} WHERE container = %s").format(
            sql.Identifier(VECTORS)), (container,)).fetchall()
    return dict(rows)


def containers() -> list[str]:
    with transaction() as conn:
        rows = conn.execute(sql.SQL("SELECT DISTINCT container FROM {}").format(sql.Identifier(VECTORS))).fetchall()
    return [row[0] for row in rows]


# ---------------------------------------------------------------- search

@dataclass(frozen=True)
class Scope:
    """What one search covers: a container's faces of one dimension, optionally only some
    persons and only faces added before a trained generation."""

    container: str
    dims: int
    allow: frozenset[str] | None = None
    generation_below: int | None = None

    def where(self) -> tuple[sql.Composable, list]:
        clauses = [sql.SQL("dims = {}").format(sql.Literal(int(self.dims))), sql.SQL("container = %s")]
        params: list = [self.container]
        if self.allow is not None:
            clauses.append(sql.SQL("person_id = ANY(%s)"))
            params.append(sorted(self.allow))
        if self.generation_below is not None:
            clauses.append(sql.SQL("generation < %s"))
            params.append(self.generation_below)
        return sql.SQL(" AND ").join(clauses), params


def nearest_persons(scope: Scope, vectors: Sequence[np.ndarray], k: int) -> list[list[tuple[str, float]]]:
    """For each vector, the ``k`` nearest persons as (person id, distance of its nearest face).
    Every vector's query goes in one round trip (a few more only when the HNSW walk must widen)."""
    if scope.allow is not None and not scope.allow:
        return [[] for _ in vectors]
    if _exact(scope):
        where, params = scope.where()
        statement = sql.SQL("SELECT person_id, min(embedding <-> %s::vector) AS distance FROM {} WHERE {} "
                            "GROUP BY person_id ORDER BY distance LIMIT %s").format(sql.Identifier(VECTORS), where)
        answers = read_together([(statement, [literal(vector), *params, k]) for vector in vectors])
        return [[(person, float(d)) for person, d in rows] for rows in answers]
    return _hnsw_persons(scope, vectors, k)


def nearest_faces(scope: Scope, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
    """The ``k`` nearest faces as (face id, distance)."""
    if _exact(scope):
        where, params = scope.where()
        statement = sql.SQL("SELECT face_id, embedding <-> %s::vector AS distance FROM {} WHERE {} "
                            "ORDER BY distance LIMIT %s").format(sql.Identifier(VECTORS), where)
        return [(face, float(d)) for face, d in read_together([(statement, [literal(vector), *params, k])])[0]]
    return [(face, distance) for _, face, distance in _hnsw_rows(scope, [vector], k)[0]]


def _hnsw_persons(scope: Scope, vectors: Sequence[np.ndarray], k: int) -> list[list[tuple[str, float]]]:
    """The nearest faces from the index, widened (for the vectors that need it) until they
    name ``k`` persons (or run out)."""
    found: list[list[tuple[str, float]]] = [[] for _ in vectors]
    pending, fetch = list(range(len(vectors))), max(4 * k, 40)
    while pending:
        widen = []
        for index, rows in zip(pending, _hnsw_rows(scope, [vectors[i] for i in pending], fetch)):
            best: dict[str, float] = {}
            for person, _, distance in rows:
                best.setdefault(person, distance)
            found[index] = sorted(best.items(), key=lambda item: item[1])[:k]
            if len(best) < k and len(rows) == fetch and fetch < _MAX_FETCH:
                widen.append(index)
        pending, fetch = widen, min(4 * fetch, _MAX_FETCH)
    return found


def _hnsw_rows(scope: Scope, vectors: Sequence[np.ndarray], limit: int) -> list[list[tuple[str, str, float]]]:
    """For each vector, (person, face, Euclidean distance) of the ``limit`` nearest faces, nearest
    first, all in one round trip: the cosine HNSW index's ``_CANDIDATES * limit`` nearest rows,
    re-ranked by Euclidean distance in the same statement. The plan is forced for this
    transaction only (SET LOCAL ends with it: no sort, no bitmap or sequential scan): the
    index's ordered scan for the candidates (the re-rank sorts only those)."""
    where, params = scope.where()
    expression = schema.dimension_expression(scope.dims)
    query = sql.SQL("%s::vector({})").format(sql.Literal(int(scope.dims)))
    candidates = _CANDIDATES * limit
    settings = [sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(max(config.ef_search(), candidates))),
                sql.SQL("SET LOCAL hnsw.iterative_scan = relaxed_order"), sql.SQL("SET LOCAL enable_sort = off"),
                sql.SQL("SET LOCAL enable_seqscan = off"), sql.SQL("SET LOCAL enable_bitmapscan = off")]
    statement = sql.SQL("SELECT person_id, face_id, {e} <-> {q} AS distance FROM ("
                        "SELECT person_id, face_id, embedding FROM {v} WHERE {w} ORDER BY {e} <=> {q} LIMIT %s"
                        ") AS candidate ORDER BY distance LIMIT %s").format(
        e=expression, q=query, v=sql.Identifier(VECTORS), w=where)
    texts = [literal(vector) for vector in vectors]
    answers = read_together([(setting, ()) for setting in settings]
                            + [(statement, [text, *params, text, candidates, limit]) for text in texts])[len(settings):]
    return [[(person, face, float(distance)) for person, face, distance in rows] for rows in answers]


def _exact(scope: Scope) -> bool:
    """Whether the scope is small enough for an exact scan (measured cut-over: docs/scale.md).
    Both plans return the same persons (the HNSW walk up to its recall): the choice only
    decides speed, so a container's size may be a little stale."""
    if scope.allow is not None:
        return len(scope.allow) <= config.exact_persons()
    return _container_size(scope) <= config.exact_faces()


_SIZE_SECONDS = 30.0  # a container's size (which plan to use) is looked up at most this often
_sizes: dict[tuple[str, int], tuple[float, int]] = {}
_sizes_lock = threading.Lock()


def _container_size(scope: Scope) -> int:
    """How many faces the container holds, counted up to just past the exact limit (at most
    once per _SIZE_SECONDS per container and process: one round trip, not one per search)."""
    key, now, limit = (scope.container, scope.dims), time.monotonic(), config.exact_faces()
    with _sizes_lock:
        cached = _sizes.get(key)
    if cached is not None and now - cached[0] < _SIZE_SECONDS:
        return cached[1]
    count = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} WHERE container = %s AND dims = {} "
                    "LIMIT %s) AS bounded").format(sql.Identifier(VECTORS), sql.Literal(int(scope.dims)))
    size = read_together([(count, (scope.container, limit + 1))])[0][0][0]
    with _sizes_lock:
        _sizes[key] = (now, size)
    return size

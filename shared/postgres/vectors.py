"""Searchable templates in PostgreSQL: write, remove, search (the engine behind FACE_SEARCH_ENGINE=postgres).

Callers name a *container* (``directory_container``, ``gallery_container``) and an *owner* (the
person, or for a face-list face the face itself): the owner is the distribution column and the
row every write locks first, so a write and a removal of one owner never interleave. The same
transaction recomputes the owner's centroid (the mean of its templates), which the HNSW index holds.

Distances are Euclidean (``<->``), as the embedded engine's: a confidence never depends on the
engine, and unnormalised templates (dlib's) rank as they do everywhere else. Each search picks
its plan explicitly: an exact scan of the container's faces when they are few; otherwise the
nearest owners by the direction of their centroids (the cosine HNSW index walked with
iterative scans, so a filter - container, allowed persons - still fills the shortlist; or,
for a small set of allowed persons, their centroids ranked exactly), whose faces the same
statement re-ranks by Euclidean distance. The embedded engine's graph holds person centroids
the same way (docs/index.md): one entry per person instead of one per face, a fifth of the
graph at 5 faces a person, and persons are far better separated than single faces.
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
_MAX_OWNERS = 4000  # owners one search shortlists at most, widening 4x per round
_MIN_OWNERS = 10  # owners shortlisted for k 1-5 (measured: docs/scale.md), 2k for larger k
_MAX_EF_SEARCH = 1000  # pgvector's limit
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
    """Lock the owner row (created if new); returns when it was removed (None: live). Removing
    clears the centroid with the mark (the person's vectors go in the same transaction)."""
    update = ("removed_at = coalesce({o}.removed_at, now()), dims = NULL, centroid = NULL" if remove
              else "removed_at = {o}.removed_at")
    statement = sql.SQL("INSERT INTO {o} (shard_key, container, removed_at) VALUES (%s, %s, %s) "
                        "ON CONFLICT (shard_key, container) DO UPDATE SET " + update + " "
                        "RETURNING removed_at").format(o=sql.Identifier(OWNERS))
    return conn.execute(statement, (owner, container, "now" if remove else None)).fetchone()[0]


def _refresh_centroids(conn, container: str, owners: Sequence[str]) -> None:
    """Recompute the centroid (mean template) of live owners whose vectors just changed, inside
    the transaction that changed them and holds their rows' locks; NULL when none is left. One
    statement per owner (pipelined by executemany): each touches one shard on a cluster."""
    statement = sql.SQL(
        "UPDATE {o} SET dims = mean.dims, centroid = mean.centroid FROM (SELECT min(dims) AS dims, "
        "avg(embedding) AS centroid FROM {v} WHERE shard_key = %(owner)s AND container = %(c)s) AS mean "
        "WHERE {o}.shard_key = %(owner)s AND {o}.container = %(c)s AND {o}.removed_at IS NULL "
        "AND {o}.centroid IS DISTINCT FROM mean.centroid").format(  # unchanged: no new row version, no index entry
        o=sql.Identifier(OWNERS), v=sql.Identifier(VECTORS))
    with conn.cursor() as cursor:
        cursor.executemany(statement, [{"owner": owner, "c": container} for owner in owners])


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
        _refresh_centroids(conn, container, [owner for owner in owners if owner not in removed])
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
        _refresh_centroids(conn, container, [owner])


def forget_faces(container: str, owner: str, face_ids: Collection[str]) -> None:
    """Delete vectors whose record is missing without marking them removed: an add still
    under way (vector written, record not yet linked) may bring them back."""
    if not face_ids:
        return
    with transaction() as conn:
        _lock_owner(conn, owner, container)
        conn.execute(sql.SQL("DELETE FROM {} WHERE shard_key = %s AND container = %s AND face_id = ANY(%s)").format(
            sql.Identifier(VECTORS)), (owner, container, list(face_ids)))
        _refresh_centroids(conn, container, [owner])


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

def id_list(ids: Collection[str]) -> str:
    """Person ids as one comma-separated text parameter (split by ``string_to_array`` on the
    server): psycopg adapts a list element by element in Python, which cost 2.5 ms of a 6.5 ms
    search restricted to 2,000 persons. Ids are UUIDs (validated on the way in): no commas."""
    joined = ",".join(ids)
    if joined.count(",") != max(len(ids) - 1, 0):
        raise ValueError("a person id with a comma")
    return joined


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
            clauses.append(sql.SQL("person_id = ANY(string_to_array(%s, ','))"))
            params.append(id_list(self.allow))
        if self.generation_below is not None:
            clauses.append(sql.SQL("generation < %s"))
            params.append(self.generation_below)
        return sql.SQL(" AND ").join(clauses), params


def nearest_persons(scope: Scope, vectors: Sequence[np.ndarray], k: int) -> list[list[tuple[str, float]]]:
    """For each vector, the ``k`` nearest persons as (person id, distance of its nearest face).
    Every vector's query goes in one round trip (a few more only when a shortlist must widen)."""
    if scope.allow is not None and not scope.allow:
        return [[] for _ in vectors]
    if _plan(scope) == _EXACT:
        where, params = scope.where()
        statement = sql.SQL("SELECT person_id, min(embedding <-> %s::vector) AS distance FROM {} WHERE {} "
                            "GROUP BY person_id ORDER BY distance LIMIT %s").format(sql.Identifier(VECTORS), where)
        answers = read_together([(statement, [literal(vector), *params, k]) for vector in vectors])
        return [[(person, float(d)) for person, d in rows] for rows in answers]
    return _by_owners(scope, vectors, k, persons=True)


def nearest_faces(scope: Scope, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
    """The ``k`` nearest faces as (face id, distance)."""
    if _plan(scope) == _EXACT:
        where, params = scope.where()
        statement = sql.SQL("SELECT face_id, embedding <-> %s::vector AS distance FROM {} WHERE {} "
                            "ORDER BY distance LIMIT %s").format(sql.Identifier(VECTORS), where)
        return [(face, float(d)) for face, d in read_together([(statement, [literal(vector), *params, k])])[0]]
    return _by_owners(scope, [vector], k, persons=False)[0]


def _by_owners(scope: Scope, vectors: Sequence[np.ndarray], k: int, persons: bool) -> list[list[tuple[str, float]]]:
    """The ``k`` nearest persons (or faces) among the faces of a shortlist of owners, the
    shortlist widened (for the vectors that need it) until it yields ``k`` or cannot grow."""
    found: list[list[tuple[str, float]]] = [[] for _ in vectors]
    first = max(2 * k, _MIN_OWNERS)
    pending, owners = list(range(len(vectors))), first
    ceiling = min(_MAX_OWNERS, len(scope.allow)) if scope.allow is not None else _MAX_OWNERS
    while pending:
        answers = _shortlist_search(scope, [vectors[i] for i in pending], owners, k, persons)
        widen = []
        for index, rows in zip(pending, answers):
            grew = owners == first or len(rows) > len(found[index])  # else the container has no more
            found[index] = [(name, float(distance)) for name, distance in rows]
            if len(rows) < k and owners < ceiling and grew:
                widen.append(index)
        pending, owners = widen, min(4 * owners, ceiling)
    return found


def _shortlist_search(scope: Scope, vectors: Sequence[np.ndarray], owners: int, k: int, persons: bool) -> list[list]:
    """One round trip for every vector: the ``owners`` owners nearest by the direction of their
    centroid (walked in the HNSW index, or for a small set of allowed persons ranked exactly),
    then every face of theirs re-ranked by Euclidean distance: the ``k`` nearest persons (their
    nearest face's distance) or faces. The walk's plan is forced for this transaction only
    (SET LOCAL ends with it: no sort, no bitmap or sequential scan)."""
    walk = scope.allow is None or len(scope.allow) > config.exact_persons()
    query = sql.SQL("%(q)s::vector({})").format(sql.Literal(int(scope.dims)))
    allowed = sql.SQL(" AND shard_key = ANY(string_to_array(%(allow)s, ','))") if scope.allow is not None else sql.SQL("")
    order = (schema.dimension_expression(scope.dims) if walk else sql.SQL("centroid"))
    shortlist = sql.SQL("SELECT shard_key FROM {o} WHERE dims = {d} AND container = %(c)s{a} "
                        "ORDER BY {order} <=> {q} LIMIT %(owners)s").format(
        o=sql.Identifier(OWNERS), d=sql.Literal(int(scope.dims)), a=allowed, order=order, q=query)
    trained = sql.SQL(" AND v.generation < %(generation)s") if scope.generation_below is not None else sql.SQL("")
    answer = (sql.SQL("v.person_id, min(v.embedding <-> {q}) AS distance") if persons
              else sql.SQL("v.face_id, v.embedding <-> {q} AS distance")).format(q=query)
    statement = sql.SQL("SELECT {answer} FROM ({shortlist}) AS nearest JOIN {v} AS v ON v.shard_key = nearest.shard_key "
                        "AND v.container = %(c)s{trained} {group}ORDER BY distance LIMIT %(k)s").format(
        answer=answer, shortlist=shortlist, v=sql.Identifier(VECTORS), trained=trained,
        group=sql.SQL("GROUP BY v.person_id " if persons else ""))
    ef_search = min(max(config.ef_search(), owners), _MAX_EF_SEARCH)  # iterative scans go on past it
    settings = ([sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(ef_search)),
                 sql.SQL("SET LOCAL hnsw.iterative_scan = relaxed_order"), sql.SQL("SET LOCAL enable_sort = off"),
                 sql.SQL("SET LOCAL enable_seqscan = off"), sql.SQL("SET LOCAL enable_bitmapscan = off")]
                if walk else [])
    common = {"c": scope.container, "owners": owners, "k": k, "generation": scope.generation_below,
              "allow": id_list(scope.allow) if scope.allow is not None else None}
    answers = read_together([(setting, ()) for setting in settings]
                            + [(statement, {**common, "q": literal(vector)}) for vector in vectors])
    return answers[len(settings):]


_EXACT, _SHORTLIST = "exact", "shortlist"


def _plan(scope: Scope) -> str:
    """An exact scan of the faces of a small container, or of any container while its centroid
    index is missing (a database of an earlier release before ``reindex``); a shortlist of
    owners otherwise (measured cut-overs: docs/scale.md). Both plans return the same persons up
    to the shortlist's recall: the choice only decides speed, so a cached size may be stale."""
    size, indexed = _container_state(scope)
    if not indexed:
        return _EXACT
    if scope.allow is not None:
        return _SHORTLIST
    return _EXACT if size <= config.exact_faces() else _SHORTLIST


_STATE_SECONDS = 30.0  # a container's size and its index are looked up at most this often
_states: dict[tuple[str, int], tuple[float, int, bool]] = {}
_states_lock = threading.Lock()


def _container_state(scope: Scope) -> tuple[int, bool]:
    """How many faces the container holds (counted up to just past the exact limit) and whether
    the centroid index of its dimension is valid: one round trip, at most once per
    _STATE_SECONDS per container and process."""
    key, now, limit = (scope.container, scope.dims), time.monotonic(), config.exact_faces()
    with _states_lock:
        cached = _states.get(key)
    if cached is not None and now - cached[0] < _STATE_SECONDS:
        return cached[1], cached[2]
    lookup = sql.SQL("SELECT (SELECT count(*) FROM (SELECT 1 FROM {} WHERE container = %s AND dims = {} LIMIT %s) "
                     "AS bounded), coalesce(({}), false)").format(
        sql.Identifier(VECTORS), sql.Literal(int(scope.dims)), sql.SQL(schema.INDEX_VALID))
    size, indexed = read_together([(lookup, (scope.container, limit + 1, schema.hnsw_index_name(scope.dims)))])[0][0]
    with _states_lock:
        _states[key] = (now, size, indexed)
    return size, indexed

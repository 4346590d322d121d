"""The tables, created by the app itself on first use (idempotent: its identity is the server's
Entra admin in Azure, the superuser locally).

Every table's primary key starts with ``shard_key``, the distribution column on an elastic
cluster (Citus): a face's person id, or its own id for a face-list face. A person's faces, its
owner row and its removal marks share that value, so every write touches one shard and the
unique constraints hold per shard; a search fans out to every shard and the coordinator
merges each shard's nearest rows.

- ``face_vectors``: one row per searchable face: its container (``dir:<model>`` for the
  PersonDirectory, the container incarnation for a gallery), ids, the gallery generation it
  was added in (training makes faces of older generations searchable) and the plaintext
  template (``vector`` without a fixed dimension; ``dims`` says which).
- ``face_owners``: one row per person (or face-list face) that ever had a vector here: every
  write to its vectors first locks this row, so an add racing a delete is ordered; a delete
  marks ``removed_at``, and an add that meets the mark writes nothing. The row also holds the
  mean of the owner's templates (``centroid``, NULL when it has none or was removed),
  recomputed in the transaction of every write to its vectors: the partial cosine HNSW index
  of each dimension is over these, one entry per person (the embedded engine's graph holds
  person centroids too, docs/index.md), and a search re-ranks the nearest persons' faces.
- ``face_removals``: ids of removed faces, so the sweep's reconciliation and a late add never
  bring a removed face back. Ids only; both kinds of mark go after
  FACE_POSTGRES_REMOVAL_RETENTION_SECONDS.
"""
from __future__ import annotations

import threading

import psycopg
from psycopg import sql

from shared.postgres import config

VECTORS, OWNERS, REMOVALS = "face_vectors", "face_owners", "face_removals"
INDEX_VALID = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)"  # no row: no such index

_TABLES = f"""
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS {VECTORS} (
    shard_key text NOT NULL,
    container text NOT NULL,
    face_id text NOT NULL,
    person_id text NOT NULL DEFAULT '',
    generation integer NOT NULL DEFAULT 0,
    dims smallint NOT NULL,
    embedding vector NOT NULL,
    PRIMARY KEY (shard_key, container, face_id));
CREATE INDEX IF NOT EXISTS {VECTORS}_container ON {VECTORS} (container, person_id);
CREATE TABLE IF NOT EXISTS {OWNERS} (
    shard_key text NOT NULL,
    container text NOT NULL,
    removed_at timestamptz,
    PRIMARY KEY (shard_key, container));
ALTER TABLE {OWNERS} ADD COLUMN IF NOT EXISTS dims smallint, ADD COLUMN IF NOT EXISTS centroid vector;
CREATE INDEX IF NOT EXISTS {OWNERS}_removed ON {OWNERS} (removed_at) WHERE removed_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS {REMOVALS} (
    shard_key text NOT NULL,
    container text NOT NULL,
    face_id text NOT NULL,
    removed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shard_key, container, face_id));
CREATE INDEX IF NOT EXISTS {REMOVALS}_removed ON {REMOVALS} (removed_at);
"""

_indexed: set[int] = set()
_indexed_lock = threading.Lock()
_CREATE_LOCK = 7_130_017  # advisory lock id: one DDL at a time however many instances start


_OBJECTS = [VECTORS, f"{VECTORS}_container", OWNERS, f"{OWNERS}_removed", REMOVALS, f"{REMOVALS}_removed"]


def create(conn: psycopg.Connection) -> None:
    if _existing(conn, _OBJECTS) == len(_OBJECTS) and _has_centroids(conn):
        return  # the usual case: no DDL (CREATE INDEX IF NOT EXISTS would wait for every writer)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_CREATE_LOCK,))
        conn.execute(_TABLES)
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'").fetchone():
            _distribute(conn)


def _distribute(conn: psycopg.Connection) -> None:
    """On an elastic cluster (Citus): shard every table by ``shard_key``, co-located, so a
    person's rows of all three tables live on one node (done once; later starts find it done)."""
    distributed = {row[0] for row in conn.execute(
        "SELECT logicalrelid::regclass::text FROM pg_dist_partition WHERE logicalrelid = ANY(%s::regclass[])",
        ([VECTORS, OWNERS, REMOVALS],))}
    for table in (VECTORS, OWNERS, REMOVALS):
        if table not in distributed:
            conn.execute("SELECT create_distributed_table(%s, 'shard_key', colocate_with => %s)",
                         (table, "default" if table == VECTORS else VECTORS))


def hnsw_index_name(dims: int) -> str:
    """The cosine HNSW index of the owners' centroids of one template dimension."""
    return f"{OWNERS}_cosine_{int(dims)}"


def face_index_names(dims: int) -> list[str]:
    """The HNSW indexes over single faces that earlier releases built (Euclidean, then cosine):
    ``reindex`` replaces them with the centroid index."""
    return [f"{VECTORS}_hnsw_{int(dims)}", f"{VECTORS}_cosine_{int(dims)}"]


def dimension_expression(dims: int) -> sql.Composable:
    """``centroid::vector(<dims>)``: what the partial HNSW index of that dimension holds."""
    return sql.SQL("(centroid::vector({}))").format(sql.Literal(int(dims)))


def index_statement(dims: int, concurrently: bool = False) -> sql.Composable:
    """The cosine HNSW index of one dimension's centroids, with FACE_POSTGRES_HNSW_M and
    _EF_CONSTRUCTION. Cosine: the walk proposes persons by the direction of their mean template
    and the search re-ranks their faces by Euclidean distance (vectors.py, docs/scale.md)."""
    return sql.SQL("CREATE INDEX {}IF NOT EXISTS {} ON {} USING hnsw ({} vector_cosine_ops) "
                   "WITH (m = {}, ef_construction = {}) WHERE dims = {}").format(
        sql.SQL("CONCURRENTLY " if concurrently else ""), sql.Identifier(hnsw_index_name(dims)),
        sql.Identifier(OWNERS), dimension_expression(dims), sql.Literal(config.hnsw_m()),
        sql.Literal(config.hnsw_ef_construction()), sql.Literal(int(dims)))


def ensure_dimension(conn: psycopg.Connection, dims: int) -> None:
    """The centroid HNSW index of one template dimension, made the first time a vector of that
    dimension is written. A database of an earlier release (an index over faces, centroids not
    yet computed) is left alone, the build at its size would outlast a request: until
    ``postgres_sync reindex`` has run, its searches scan exactly (``vectors._plan``)."""
    dims = int(dims)
    with _indexed_lock:
        if dims in _indexed:
            return
    if _existing(conn, [hnsw_index_name(dims), *face_index_names(dims)]):  # no DDL, no table lock
        with _indexed_lock:
            _indexed.add(dims)
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_CREATE_LOCK,))
        conn.execute(index_statement(dims))
    with _indexed_lock:
        _indexed.add(dims)


def _has_centroids(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = 'centroid'",
                        (OWNERS,)).fetchone() is not None


def _existing(conn: psycopg.Connection, names: list[str]) -> int:
    """How many of the relations ``names`` exist."""
    return conn.execute("SELECT count(to_regclass(name)) FROM unnest(%s::text[]) AS name", (names,)).fetchone()[0]


def forget() -> None:
    """Forget which indexes exist (a new database, in tests)."""
    with _indexed_lock:
        _indexed.clear()

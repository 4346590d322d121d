"""Housekeeping of the search engine's tables, run by the sweep (and by operators' commands).

A DELETE leaves the row as a dead tuple (and its HNSW entry) until VACUUM: no query returns it,
but its bytes are on disk. Every sweep VACUUMs the tables, so a removed vector leaves the heap
and the index within one sweep period (plus the VACUUM's own run time). VACUUM frees the space but does not overwrite it: the freed bytes
stay in the data files until new rows reuse that space. ``rewrite`` (VACUUM FULL: new files,
the old ones unlinked; it locks the tables while it runs) is the operator's command for a
scrub of the files themselves (docs/scale.md). ``reindex`` moves a database of an earlier
release (an HNSW index over single faces) to the index over owners' centroids.
"""
from __future__ import annotations

from contextlib import contextmanager

from psycopg import sql

from shared.postgres import config, schema
from shared.postgres.connection import database, transaction, unavailable, OUTAGES
from shared.postgres.schema import OWNERS, REMOVALS, VECTORS

TABLES = (VECTORS, OWNERS, REMOVALS)


def purge_removal_marks() -> int:
    """Forget removed ids older than FACE_POSTGRES_REMOVAL_RETENTION_SECONDS (ids only)."""
    seconds = config.removal_retention_seconds()
    with transaction() as conn:
        faces = conn.execute(sql.SQL("DELETE FROM {} WHERE removed_at < now() - make_interval(secs => %s)").format(
            sql.Identifier(REMOVALS)), (seconds,)).rowcount
        owners = conn.execute(sql.SQL("DELETE FROM {} WHERE removed_at < now() - make_interval(secs => %s)").format(
            sql.Identifier(OWNERS)), (seconds,)).rowcount
    return faces + owners


def dead_tuples() -> dict[str, int]:
    """PostgreSQL's count of dead tuples per table (what VACUUM has still to remove)."""
    with transaction() as conn:
        rows = conn.execute("SELECT relname, n_dead_tup FROM pg_stat_user_tables WHERE relname = ANY(%s)",
                            (list(TABLES),)).fetchall()
    return {name: int(count) for name, count in rows}


@contextmanager
def _session():
    """A pooled connection in autocommit without a statement timeout (VACUUM and CREATE / DROP
    INDEX CONCURRENTLY cannot run in a transaction and outlast any request), given back as the
    pool's other users expect it; an outage is the request's 503."""
    try:
        db = database()
        db.ensure_schema()
        with db.pool.connection() as conn:
            conn.autocommit = True
            try:
                conn.execute("SET statement_timeout = 0")
                yield conn
                conn.execute("RESET statement_timeout")
            finally:
                conn.autocommit = False
    except OUTAGES as err:
        raise unavailable(err) from err


def vacuum(full: bool = False) -> None:
    """VACUUM (with ``full``: rewrite) every table. Cheap when nothing changed (the visibility
    map skips all-visible pages), so the sweep does not wait for the statistics, which lag."""
    with _session() as conn:
        for table in TABLES:
            conn.execute(sql.SQL("VACUUM (FULL, ANALYZE) {}" if full else "VACUUM (ANALYZE) {}").format(
                sql.Identifier(table)))


def reindex() -> list[int]:
    """Migrate a database of an earlier release: for every template dimension, compute the
    centroids its owners do not have yet, build the centroid index CONCURRENTLY (writes and
    searches go on; searches stay exact until it is valid) and drop the indexes over single
    faces, also concurrently. Idempotent; an interrupted build leaves an invalid index, dropped
    and rebuilt on the next run. Returns the dimensions reindexed."""
    with _session() as conn:
        dims = [row[0] for row in conn.execute(sql.SQL("SELECT DISTINCT dims FROM {} ORDER BY 1").format(
            sql.Identifier(VECTORS)))]
        for size in dims:
            _fill_centroids(conn, size)
            _build_centroid_index(conn, size)
            for name in schema.face_index_names(size):
                conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(name)))
    schema.forget()
    return dims


def _fill_centroids(conn, dims: int) -> None:
    """Centroids of live owners that have none (written before this release). Owners written
    since have theirs (every write recomputes it), and the row lock's re-check skips them."""
    conn.execute(sql.SQL(
        "UPDATE {o} SET dims = mean.dims, centroid = mean.centroid FROM ("
        "SELECT shard_key, container, min(dims) AS dims, avg(embedding) AS centroid FROM {v} WHERE dims = %s "
        "GROUP BY shard_key, container) AS mean WHERE {o}.shard_key = mean.shard_key "
        "AND {o}.container = mean.container AND {o}.removed_at IS NULL AND {o}.centroid IS NULL").format(
        o=sql.Identifier(OWNERS), v=sql.Identifier(VECTORS)), (dims,))


def _build_centroid_index(conn, dims: int) -> None:
    name = schema.hnsw_index_name(dims)
    valid = conn.execute(schema.INDEX_VALID, (name,)).fetchone()
    if valid is not None and not valid[0]:  # left by an interrupted concurrent build
        conn.execute(sql.SQL("DROP INDEX CONCURRENTLY {}").format(sql.Identifier(name)))
    conn.execute(schema.index_statement(dims, concurrently=True))

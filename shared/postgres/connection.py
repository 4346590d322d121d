"""One connection pool per process, Entra tokens as passwords, and outages as 503.

In Azure the password is an Entra access token of the app's user-assigned managed identity
(scope ``https://ossrdbms-aad.database.windows.net/.default``). A token is only checked when a
connection opens, so each new connection asks ``EntraPassword`` for one that is valid for at
least REFRESH_MARGIN more seconds (a fresh one otherwise), and the pool closes connections
before a token would have expired (``max_lifetime``), so no connection outlives its token by
long and every reconnect brings a current one.

Any failure to reach or talk to the server (refused, reset, timed out, restarting, read-only
while failing over) is an outage: ``transaction`` raises ServiceUnavailable (503 with
Retry-After in Azure's envelope), never a 500. A transaction that fails is rolled back whole.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from shared.errors import ServiceUnavailable
from shared.postgres import config, schema

logger = logging.getLogger(__name__)
TOKEN_SCOPE = "https://ossrdbms-aad.database.windows.net/.default"
REFRESH_MARGIN = 300.0  # seconds of validity a token must still have when a connection opens
MAX_LIFETIME = 45 * 60.0  # Entra tokens live 60-90 minutes: connections are replaced before
RETRY_AFTER_SECONDS = 2


class EntraPassword:
    """Callable giving the current token, renewed when it has less than ``margin`` s left."""

    def __init__(self, credential, margin: float = REFRESH_MARGIN, clock: Callable[[], float] = time.time):
        self._credential, self._margin, self._clock = credential, margin, clock
        self._token = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or self._token.expires_on - self._clock() < self._margin:
                self._token = self._credential.get_token(TOKEN_SCOPE)
            return self._token.token


def _credential(client_id: str):
    from azure.identity import ManagedIdentityCredential

    return ManagedIdentityCredential(client_id=client_id or None)


class Database:
    """The pool of one target, with the schema made sure of once."""

    def __init__(self, target: config.Target, password: Callable[[], str] | None = None):
        self.target = target
        if password is None and target.uses_entra:
            password = EntraPassword(_credential(target.client_id))
        self._password = password
        self.pool = ConnectionPool(target.conninfo(), kwargs=self._connect_kwargs, min_size=0,
                                   max_size=config.pool_size(), max_lifetime=MAX_LIFETIME,
                                   timeout=config.timeout_seconds(), open=True,
                                   check=ConnectionPool.check_connection)
        self._schema_ready = False
        self._schema_lock = threading.Lock()

    def _connect_kwargs(self) -> dict:
        kwargs = {"autocommit": False, "connect_timeout": max(1, round(config.timeout_seconds())),
                  "options": f"-c statement_timeout={int(config.timeout_seconds() * 1000) * 6}"}
        if self._password is not None:
            kwargs["password"] = self._password()
        return kwargs

    def ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if not self._schema_ready:
                with self.pool.connection() as conn:
                    schema.create(conn)
                self._schema_ready = True

    def close(self) -> None:
        self.pool.close()


_database: Database | None = None
_database_lock = threading.Lock()


def database() -> Database:
    """This process's pool for the configured target (a new one when the settings changed)."""
    global _database
    target = config.target()
    with _database_lock:
        if _database is None or _database.target.key() != target.key():
            if _database is not None:
                _database.close()
            _database = Database(target)
        return _database


def reset() -> None:
    """Close this process's pool (tests, and a restart of the local server)."""
    global _database
    with _database_lock:
        if _database is not None:
            _database.close()
        _database = None


def unavailable(err: BaseException) -> ServiceUnavailable:
    logger.warning("PostgreSQL unavailable: %s: %s", type(err).__name__, err)
    return ServiceUnavailable("The service is temporarily unable to reach its search engine. Please retry.",
                              retry_after=RETRY_AFTER_SECONDS)


# Unreachable, restarting, failing over, too slow; and transient conflicts worth a retry.
OUTAGES = (psycopg.OperationalError, psycopg.errors.AdminShutdown, psycopg.errors.CannotConnectNow,
           psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.QueryCanceled, psycopg.errors.DeadlockDetected,
           psycopg.errors.SerializationFailure, PoolTimeout)


@contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """A connection inside one transaction (committed when the block ends without error)."""
    try:
        db = database()
        db.ensure_schema()
        with db.pool.connection() as conn:
            with conn.transaction():
                yield conn
    except OUTAGES as err:
        raise unavailable(err) from err


Statement = tuple[sql.Composable | str, Sequence]


def read_together(statements: Sequence[Statement]) -> list[list[tuple]]:
    """Run ``statements`` in one transaction sent as one pipeline (BEGIN, the statements and
    COMMIT queued, one sync: a single round trip to the server) and return each one's rows ([]
    for a statement without rows, such as ``SET LOCAL``). For reads: each statement sees every
    transaction committed before it started, as an autocommit read would."""
    try:
        db = database()
        db.ensure_schema()
        with db.pool.connection() as conn:
            # BEGIN and COMMIT are sent as statements: psycopg's own transaction block would
            # sync (wait for the server) after each of them.
            conn.autocommit = True
            try:
                with conn.pipeline():
                    cursors = [conn.execute(statement, params)
                               for statement, params in [("BEGIN", ()), *statements, ("COMMIT", ())]]
            finally:
                with suppress(psycopg.Error):  # a failed statement left the transaction open
                    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                        conn.execute("ROLLBACK")
                    conn.autocommit = False  # as the pool's other users expect
            return [cursor.fetchall() if cursor.description is not None else [] for cursor in cursors[1:-1]]
    except OUTAGES as err:
        raise unavailable(err) from err

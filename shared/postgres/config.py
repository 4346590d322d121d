"""Which engine searches the large galleries, and how to reach PostgreSQL when it is ``postgres``.

FACE_SEARCH_ENGINE: ``embedded`` (default: the HNSW snapshots in Blob Storage, as always) or
``postgres``. FACE_POSTGRES_URL (a libpq URL or conninfo, password or trust auth) wins when
set: local development and tests. Otherwise the Azure settings: host, port, database, the
managed identity's database principal and client id, and an Entra token as the password.
"""
from __future__ import annotations

from dataclasses import dataclass

from shared.settings import env_float, env_int, env_str

EMBEDDED, POSTGRES = "embedded", "postgres"
ENGINE = "FACE_SEARCH_ENGINE"


def engine() -> str:
    chosen = env_str(ENGINE, EMBEDDED).lower()
    if chosen not in (EMBEDDED, POSTGRES):
        raise ValueError(f"{ENGINE} must be '{EMBEDDED}' or '{POSTGRES}', not '{chosen}'")
    return chosen


def postgres_search() -> bool:
    """The PersonDirectory, LargePersonGroups and LargeFaceLists are searched in PostgreSQL."""
    return engine() == POSTGRES


@dataclass(frozen=True)
class Target:
    """Where to connect: a full URL (local, tests) or the Azure parts (Entra token as password)."""

    url: str
    host: str
    port: int
    database: str
    user: str
    client_id: str
    sslmode: str

    @property
    def uses_entra(self) -> bool:
        return not self.url

    def conninfo(self) -> str:
        if self.url:
            return self.url
        return (f"host={self.host} port={self.port} dbname={self.database} user={self.user} "
                f"sslmode={self.sslmode}")

    def key(self) -> tuple:
        return (self.url, self.host, self.port, self.database, self.user, self.client_id, self.sslmode)


def target() -> Target:
    url = env_str("FACE_POSTGRES_URL")
    host = env_str("FACE_POSTGRES_HOST")
    if not url and not host:
        raise ValueError(f"{ENGINE}=postgres needs FACE_POSTGRES_URL or FACE_POSTGRES_HOST")
    return Target(url=url, host=host, port=env_int("FACE_POSTGRES_PORT", 5432),
                  database=env_str("FACE_POSTGRES_DATABASE", "face"), user=env_str("FACE_POSTGRES_USER"),
                  client_id=env_str("FACE_POSTGRES_CLIENT_ID"), sslmode=env_str("FACE_POSTGRES_SSLMODE", "require"))


def pool_size() -> int:
    return env_int("FACE_POSTGRES_POOL_SIZE", 4)


def timeout_seconds() -> float:
    """How long a request waits for a connection (or a statement) before it answers 503."""
    return env_float("FACE_POSTGRES_TIMEOUT_SECONDS", 5.0)


def ef_search() -> int:
    """HNSW candidates a walk of the centroid index keeps (measured trade-off of recall and
    latency: docs/scale.md); never fewer than the owners it shortlists."""
    return env_int("FACE_POSTGRES_EF_SEARCH", 40)


def hnsw_m() -> int:
    """Links per node of an HNSW index built from now on (an existing index keeps its own). 32:
    at 16 the walk over 200,000 centroids missed the person 6% of the time at ef_search 64."""
    return env_int("FACE_POSTGRES_HNSW_M", 32)


def hnsw_ef_construction() -> int:
    """Candidates per insertion when an HNSW index is built from now on."""
    return env_int("FACE_POSTGRES_HNSW_EF_CONSTRUCTION", 128)


def exact_faces() -> int:
    """Searches over at most this many faces (a small container, a small group) are exact."""
    return env_int("FACE_POSTGRES_EXACT_FACES", 20_000)


def removal_retention_seconds() -> int:
    """How long the ids of removed faces and persons stay (they keep the sweep and late adds
    from bringing a removed vector back); ids only, never vectors."""
    return env_int("FACE_POSTGRES_REMOVAL_RETENTION_SECONDS", 86_400)


def exact_persons() -> int:
    """Identify restricted to at most this many persons (personIds, a dynamic group) ranks their
    centroids exactly; a larger group walks the HNSW index with iterative scans (docs/scale.md)."""
    return env_int("FACE_POSTGRES_EXACT_PERSONS", 4000)

"""Inventory source: template vectors held in PostgreSQL (FACE_SEARCH_ENGINE=postgres), per
container of this deployment's storage prefix, counted in the tables themselves: the faces'
vectors and the persons' centroids (the mean of a person's templates, what the index holds).

The vectors are copies of the templates in Table Storage, written and removed by the gallery
and directory write paths (shared.postgres.vectors), so a person's erase removes them through
those deletes; ``holdings`` shows any row of the personId still there (the erase's
``remaining`` reads it again). With the embedded engine nothing is held in PostgreSQL.
"""
from __future__ import annotations

from shared.inventory.source import NothingPerPerson
from shared.postgres import config
from shared.storage import naming


def _label(container: str) -> str:
    """"PersonDirectory/recognition_04" or "gallery/<incarnation>" for a container name."""
    kind, _, rest = container.partition(":")
    return f"{'PersonDirectory' if kind == 'dir' else 'gallery'}/{rest.split(':', 1)[1]}"


def _counts(where: str, parameters: tuple) -> dict[str, tuple[int, int]]:
    """container -> (vectors, centroids) of this prefix's containers, rows matching ``where``."""
    from psycopg import sql  # only with the postgres engine: the embedded default never imports it

    from shared.postgres.connection import transaction
    from shared.postgres.schema import OWNERS, VECTORS
    from shared.postgres.vectors import DIRECTORY, GALLERY

    prefix = naming.prefix()
    mine = (f"{DIRECTORY}{prefix}:%", f"{GALLERY}{prefix}:%", *parameters)
    counted: dict[str, list[int]] = {}
    with transaction() as conn:
        for column, (table, held) in enumerate(((VECTORS, "TRUE"), (OWNERS, "centroid IS NOT NULL"))):
            query = sql.SQL("SELECT container, count(*) FROM {} WHERE (container LIKE %s OR container LIKE %s) AND "
                            + where + " AND " + held + " GROUP BY container").format(sql.Identifier(table))
            for container, count in conn.execute(query, mine).fetchall():
                counted.setdefault(container, [0, 0])[column] = count
    return {container: (vectors, centroids) for container, (vectors, centroids) in sorted(counted.items())}


class PostgresSource(NothingPerPerson):
    name = "postgresVectors"
    title = "Template vectors in PostgreSQL"

    def summary(self) -> dict:
        if not config.postgres_search():
            return {"engine": config.EMBEDDED, "templates": 0}
        containers = [{"container": _label(container), "vectors": vectors, "centroids": centroids}
                      for container, (vectors, centroids) in _counts("TRUE", ()).items()]
        return {"engine": config.POSTGRES, "templates": sum(entry["vectors"] for entry in containers),
                "centroids": sum(entry["centroids"] for entry in containers), "containers": containers}

    def holdings(self, person_id: str) -> list[dict]:
        if not config.postgres_search():
            return []
        return [{"source": self.name, "kind": "PostgreSQL", "container": _label(container), "personId": person_id,
                 "templates": vectors, "centroids": centroids}
                for container, (vectors, centroids) in _counts("shard_key = %s", (person_id,)).items()]


SOURCE = PostgresSource()

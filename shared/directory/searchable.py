"""Where the directory's searchable faces live, by FACE_SEARCH_ENGINE: the journal with its
snapshots (embedded, view.py) or PostgreSQL (shared.postgres.vectors).

Every change to what a search returns goes through ``commit``: faces added, faces removed,
persons removed. The face packs in Table Storage stay the record either way (sealed
templates); PostgreSQL holds the plaintext vectors it searches, written in the same request,
and can be rebuilt from the packs (``python -m shared.postgres rebuild``).
"""
from __future__ import annotations

from collections.abc import Collection

import numpy as np

from shared.directory import journal, view
from shared.directory.journal import ADD, REMOVE_FACE, REMOVE_PERSON, Entry
from shared.engine.types import RECOGNITION_MODELS
from shared.galleries.repository import person_not_found
from shared.index.gallery import EmbedderInfo
from shared.postgres.config import postgres_search
from shared.storage import naming


def commit(model: str, entries: list[Entry]) -> None:
    """Make ``entries`` hold for every search that starts after this returns, on any instance."""
    if not postgres_search():
        journal.append(model, entries)
        return
    vectors = _vectors()
    container = vectors.directory_container(model)
    added: dict[str, list] = {}
    removed: dict[str, list[str]] = {}
    for entry in entries:
        if entry.kind == ADD:
            added.setdefault(entry.person_id, []).append(
                vectors.NewVector(entry.face_id, entry.person_id, entry.template.vector))
        elif entry.kind == REMOVE_FACE:
            removed.setdefault(entry.person_id, []).append(entry.face_id)
        elif entry.kind == REMOVE_PERSON:
            vectors.remove_owner([container], entry.person_id)
    for person_id, face_ids in removed.items():
        vectors.remove_faces(container, person_id, face_ids)
    refused = vectors.add_many(container, added)  # all persons' faces in one transaction
    if refused:
        raise person_not_found(min(refused))


def commit_everywhere(entries: list[Entry]) -> None:
    """``commit`` for every recognition model (a person's removal)."""
    if not postgres_search():
        journal.append_everywhere(entries)
        return
    vectors = _vectors()
    containers = [vectors.directory_container(model) for model in RECOGNITION_MODELS]
    for entry in entries:
        vectors.remove_owner(containers, entry.person_id)


def nearest_persons(model: str, queries: list[np.ndarray], k: int, allow: Collection[str] | None,
                    embedder: EmbedderInfo) -> list[list[tuple[str, float]]]:
    """Each query's ``k`` nearest persons (distance of their nearest face), only among ``allow``
    when given; BadArgument when the directory's faces were made by another embedder."""
    if not postgres_search():
        state = view.view(model).current()
        if state.embedder is not None and state.embedder != embedder:
            raise _other_embedder(model, embedder, state.embedder.name)
        return state.search_each(queries, k, allow)
    recorded = _recorded_embedder(model)
    if recorded and recorded != embedder.name:
        raise _other_embedder(model, embedder, recorded)
    if not queries:
        return []
    vectors = _vectors()
    scope = vectors.Scope(vectors.directory_container(model), int(np.asarray(queries[0]).size),
                          frozenset(allow) if allow is not None else None)
    return vectors.nearest_persons(scope, queries, k)


_embedders: dict[tuple[str, str], str] = {}  # (storage prefix, model) -> embedder


def _recorded_embedder(model: str) -> str:
    """The embedder the model's first add recorded in the journal head ("" before): fixed once
    recorded, so it is read from storage only until then."""
    key = (naming.prefix(), model)
    if key not in _embedders:
        recorded = journal.read_head(model).embedder
        if not recorded:
            return ""
        _embedders[key] = recorded
    return _embedders[key]


def _other_embedder(model: str, query: EmbedderInfo, held: str):
    from shared.errors import BadArgument

    return BadArgument(f"The faces were embedded by '{query.name}' v{query.version}, the current engine of "
                       f"{model}, but the directory's {model} faces hold '{held}' templates from before "
                       "that changed.")


def _vectors():
    """shared.postgres.vectors, imported on first use: psycopg loads only where PostgreSQL is used
    (about 0.2 s of an embedded instance's cold start otherwise)."""
    from shared.postgres import vectors

    return vectors

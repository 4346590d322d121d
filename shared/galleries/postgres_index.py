"""LargePersonGroups and LargeFaceLists searched in PostgreSQL (FACE_SEARCH_ENGINE=postgres).

The Table rows stay the record (sealed templates); PostgreSQL holds the searchable plaintext
vectors, keyed by the container's incarnation. Azure's semantics stay: a face is written to
PostgreSQL by its add request, tagged with the container's training generation at that time,
and a search returns only faces of generations before the last successful training
(``postgres:<generation>`` in the container's snapshot column), so a face added after the
train call waits for the next one, and identify on a never-trained container answers
``...NotTrained``. Training reconciles PostgreSQL with the Table rows (adds what an outage
left out, removes what a failed add left behind) and publishes that generation. Removals
(faces, persons, containers) delete the vectors in the same request, before the Table rows.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import numpy as np

from shared.galleries.kinds import LARGE_FACE_LIST, LARGE_PERSON_GROUP, ContainerKind
from shared.galleries.records import Container
from shared.galleries.repository import person_not_found
from shared.postgres.config import postgres_search

if TYPE_CHECKING:
    from shared.postgres.vectors import Scope

MARKER = "postgres:"


def applies(kind: ContainerKind) -> bool:
    """This kind is searched in PostgreSQL (PersonGroups and FaceLists stay embedded)."""
    return kind in (LARGE_PERSON_GROUP, LARGE_FACE_LIST) and postgres_search()


def owner(person_id: str, face_id: str) -> str:
    """The distribution column: the person, or a face-list face itself."""
    return person_id or face_id


def add_face(container: Container, person_id: str, face_id: str, vector: np.ndarray) -> None:
    """Written now, searchable after the next successful training; 404 when the person was removed."""
    vectors = _vectors()
    try:
        vectors.add(vectors.gallery_container(container.incarnation), owner(person_id, face_id),
                    [vectors.NewVector(face_id, person_id, vector)], generation=container.generation)
    except vectors.OwnerRemoved:
        raise person_not_found(person_id) from None


def remove_faces(incarnation: str, person_id: str, face_ids: Collection[str]) -> None:
    vectors = _vectors()
    container = vectors.gallery_container(incarnation)
    if person_id:
        vectors.remove_faces(container, person_id, face_ids)
    else:
        for face_id in face_ids:
            vectors.remove_owner([container], face_id)


def remove_person(incarnation: str, person_id: str) -> None:
    vectors = _vectors()
    vectors.remove_owner([vectors.gallery_container(incarnation)], person_id)


def drop(incarnation: str) -> None:
    vectors = _vectors()
    vectors.drop_container(vectors.gallery_container(incarnation))


def publish(container: Container, face_ids: Sequence[str], person_ids: Sequence[str | None],
            matrix: np.ndarray) -> str:
    """Make PostgreSQL hold exactly the live faces read for this training (rows an outage left
    out are added, rows a failed add left are removed); returns the snapshot marker."""
    vectors = _vectors()
    name = vectors.gallery_container(container.incarnation)
    present = vectors.faces_of(name)
    live = dict(zip(face_ids, (person or "" for person in person_ids)))
    for face_id, face_owner in present.items():
        if face_id not in live:  # not marked removed: an add still linking its face may add it again
            vectors.forget_faces(name, face_owner, [face_id])
    missing: dict[str, list[vectors.NewVector]] = {}
    for row, face_id in enumerate(face_ids):
        if face_id not in present:
            person = live[face_id]
            missing.setdefault(owner(person, face_id), []).append(vectors.NewVector(face_id, person, matrix[row]))
    for face_owner, faces in missing.items():
        try:
            vectors.add(name, face_owner, faces, generation=0)
        except vectors.OwnerRemoved:
            continue  # removed since the rows were read: it stays out
    return f"{MARKER}{container.generation}"


def trained_generation(container: Container) -> int:
    """Faces of generations below this are searchable (a container trained before the engine
    was switched, and rebuilt since, has its rows at generation 0)."""
    if container.snapshot.startswith(MARKER):
        return int(container.snapshot[len(MARKER):])
    return max(container.generation, 1)


def _scope(container: Container, vector: np.ndarray) -> Scope:
    vectors = _vectors()
    return vectors.Scope(vectors.gallery_container(container.incarnation), int(np.asarray(vector).size),
                         generation_below=trained_generation(container))


def nearest_persons(container: Container, queries: list[np.ndarray], k: int) -> list[list[tuple[str, float]]]:
    vectors = _vectors()
    return vectors.nearest_persons(_scope(container, queries[0]), queries, k) if queries else []


def nearest_faces(container: Container, query: np.ndarray, k: int) -> list[tuple[str, float]]:
    vectors = _vectors()
    return vectors.nearest_faces(_scope(container, query), query, k)


def _vectors():
    """shared.postgres.vectors, imported on first use: psycopg loads only where PostgreSQL is used
    (about 0.2 s of an embedded instance's cold start otherwise)."""
    from shared.postgres import vectors

    return vectors

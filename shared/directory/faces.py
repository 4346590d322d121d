"""Faces of directory persons, per recognition model: add, read, update, delete.

An add runs in this order, each step undone if a later one fails:
1. the face row (template sealed to the row) - invisible, nothing lists it yet;
2. the journal ``add`` entry - from here every instance's next query can return the face;
3. the link: the face id appended to the person's list for the model under an ETag match,
   which enforces 248 faces per person and model and fails once the person row is gone;
4. an add that finds its person gone commits ``removeFace`` and deletes its row (404).
The operation reports succeeded after step 3, so a face is searchable by then. A delete
commits ``removeFace`` first (hidden everywhere from then on), then unlinks and deletes the
row. Each operation row is written before its first step, so the sweep can finish or undo the
work of a process that died midway (recovery.py).
"""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, replace

from shared.directory import journal, repository
from shared.directory.journal import ADD, REMOVE_FACE, Entry
from shared.directory.records import DirectoryPerson
from shared.engine.engine import recognition_embedders
from shared.engine.types import Template
from shared.errors import NotFound
from shared.galleries import quotas
from shared.galleries.faces import FaceInput, embed_single_face
from shared.galleries.records import PersistedFace
from shared.galleries.repository import face_not_found
from shared.galleries.rows import bounded
from shared.operations import store as operations
from shared.operations.status import FAILED, SUCCEEDED
from shared.operations.store import Operation

logger = logging.getLogger(__name__)
ADD_KIND, DELETE_KIND = "addPersonFace", "deletePersonFace"


@dataclass(frozen=True)
class NewFace:
    template: Template
    user_data: str | None = None
    face_id: str = ""

    def with_id(self) -> "NewFace":
        return self if self.face_id else NewFace(self.template, self.user_data, str(uuid.uuid4()))


def resource(person_id: str, model: str, face_id: str = "") -> str:
    path = f"persons/{person_id}/recognitionModels/{model}/persistedfaces"
    return f"{path}/{face_id}" if face_id else path


# ---------------------------------------------------------------- embedders

_recorded: dict[str, str] = {}
_recorded_lock = threading.Lock()


def embedder_of(model: str) -> str:
    """The embedder this model's directory templates are made with: the default one when the
    model's first face is added, recorded in the journal head and kept from then on, so a later
    change of the default never mixes two embedders in one index."""
    with _recorded_lock:
        if model in _recorded:
            return _recorded[model]
    head = journal.read_head(model)
    if not head.embedder:
        default = recognition_embedders()[model]
        head = journal.change_head(model, lambda h: h if h.embedder else _with_embedder(h, default))
    with _recorded_lock:
        return _recorded.setdefault(model, head.embedder)


def _with_embedder(head: journal.Head, name: str) -> journal.Head:
    return replace(head, embedder=name)


# ---------------------------------------------------------------- add

def add(person_id: str, model: str, face: FaceInput) -> tuple[str, Operation]:
    """Detect and embed the one face, then store it; returns its id and the succeeded operation."""
    person = repository.get_person(person_id)  # 404 (or 403 when full) before spending a detection
    bounded(len(person.faces_of(model)), 1, quotas.faces_per_person(), "faces of the person")
    template = embed_single_face(face, model, embedder_of(model))
    new = NewFace(template, face.user_data).with_id()
    operation = operations.start(ADD_KIND, resource(person_id, model, new.face_id),
                                 {"personId": person_id, "model": model, "faceId": new.face_id})
    try:
        add_templates(person_id, model, [new])
    except Exception as err:
        operations.advance(operation.operation_id, FAILED, getattr(err, "message", "The face could not be added."))
        raise
    return new.face_id, operations.advance(operation.operation_id, SUCCEEDED)


def add_templates(person_id: str, model: str, faces: list[NewFace]) -> list[str]:
    """Store faces already embedded for one person and model (steps 1-4 above); all or none."""
    faces = [face.with_id() for face in faces]
    face_ids = [face.face_id for face in faces]
    limit = quotas.faces_per_person()

    def link(person: DirectoryPerson) -> DirectoryPerson:
        listed = person.faces_of(model)
        bounded(len(listed), len(faces), limit, "faces of the person")
        listed.extend(face_ids)
        return person

    repository.insert_face_rows([repository.face_row(PersistedFace(face.face_id, person_id, face.user_data),
                                                     face.template) for face in faces])
    try:
        journal.append(model, [Entry(ADD, person_id, face.face_id, face.template) for face in faces])
        repository.update_person(person_id, link)
    except Exception:
        try:
            undo_add(person_id, model, face_ids)
        except Exception:  # storage failing: the sweep undoes the add from its operation row
            logger.exception("undoing the add of %s to %s failed", face_ids, person_id)
        raise
    return face_ids


def undo_add(person_id: str, model: str, face_ids: list[str]) -> None:
    """Hide the faces everywhere, then remove their rows (whatever of the add had happened)."""
    journal.append(model, [Entry(REMOVE_FACE, person_id, face_id) for face_id in face_ids])
    repository.delete_faces(person_id, face_ids)


# ---------------------------------------------------------------- read / update / delete

def _listed(person_id: str, model: str, face_id: str) -> DirectoryPerson:
    person = repository.get_person(person_id)
    if face_id not in person.faces.get(model, []):
        raise face_not_found(face_id)
    return person


def get(person_id: str, model: str, face_id: str) -> PersistedFace:
    _listed(person_id, model, face_id)
    return repository.get_face(person_id, face_id)


def update(person_id: str, model: str, face_id: str, user_data: str | None) -> None:
    _listed(person_id, model, face_id)

    def change(face: PersistedFace) -> PersistedFace:
        if user_data is not None:
            face.user_data = user_data
        return face

    repository.update_face(person_id, face_id, change)


def listing(person_id: str, model: str) -> dict:
    person = repository.get_person(person_id)
    return {"personId": person_id, "persistedFaceIds": list(person.faces.get(model, []))}


def delete(person_id: str, model: str, face_id: str) -> Operation:
    _listed(person_id, model, face_id)
    operation = operations.start(DELETE_KIND, resource(person_id, model),
                                 {"personId": person_id, "model": model, "faceId": face_id})
    finish_delete(person_id, model, face_id)
    return operations.advance(operation.operation_id, SUCCEEDED)


def finish_delete(person_id: str, model: str, face_id: str) -> None:
    """Hide, unlink, delete: each step idempotent, so a racing delete or a resumed one is harmless."""
    journal.append(model, [Entry(REMOVE_FACE, person_id, face_id)])

    def unlink(person: DirectoryPerson) -> DirectoryPerson:
        if face_id in person.faces_of(model):
            person.faces_of(model).remove(face_id)
        return person

    try:
        repository.update_person(person_id, unlink)
    except NotFound:
        pass  # the person is gone, with its face list
    repository.delete_faces(person_id, [face_id])

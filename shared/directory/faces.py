"""Faces of directory persons, per recognition model: add, read, update, delete.

An add runs in this order, each step undone if a later one fails:
1. the face joins the person's face pack for the model (ETag-matched: 248 faces per person and
   model hold under concurrent adds) - listed, not yet searchable;
2. the journal ``add`` entry - from here every instance's next query can return the face;
3. the person row is read again: an add that finds its person deleted meanwhile commits
   ``removeFace`` and takes the face out of the pack again (404).
The operation reports succeeded after step 2, so a face is searchable by then. A delete
commits ``removeFace`` first (hidden everywhere from then on), then takes the face out of the
pack. Each operation row is written before its first step, so the sweep can finish or undo the
work of a process that died midway (maintenance.py).
"""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, replace

from shared.directory import journal, repository, searchable
from shared.directory.journal import ADD, REMOVE_FACE, Entry
from shared.directory.records import FacePack, PackedFace
from shared.engine.engine import embedder_for
from shared.engine.types import Template
from shared.galleries import quotas
from shared.galleries.faces import FaceInput, embed_single_face
from shared.galleries.repository import face_not_found
from shared.storage.rows import bounded
from shared.operations import store as operations
from shared.operations.status import SUCCEEDED
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
        default = embedder_for(model)
        head = journal.change_head(model, lambda h: h if h.embedder else replace(h, embedder=default))
    with _recorded_lock:
        return _recorded.setdefault(model, head.embedder)


# ---------------------------------------------------------------- add

def add(person_id: str, model: str, face: FaceInput) -> tuple[str, Operation]:
    """Detect and embed the one face, then store it; returns its id and the succeeded operation."""
    repository.get_person(person_id)  # 404 (or 403 when full, below) before spending a detection
    bounded(len(repository.find_pack(person_id, model).faces), 1, quotas.faces_per_person(), "faces of the person")
    template = embed_single_face(face, model, embedder_of(model))
    new = NewFace(template, face.user_data).with_id()
    operation = operations.start(ADD_KIND, resource(person_id, model, new.face_id),
                                 {"personId": person_id, "model": model, "faceId": new.face_id})
    with operations.failing(operation, "The face could not be added."):
        add_templates(person_id, model, [new])
    return new.face_id, operations.advance(operation.operation_id, SUCCEEDED)


def add_templates(person_id: str, model: str, faces: list[NewFace]) -> list[str]:
    """Store faces already embedded for one person and model (steps 1-3 above); all or none."""
    faces = [face.with_id() for face in faces]
    face_ids = [face.face_id for face in faces]
    limit = quotas.faces_per_person()

    def join(pack: FacePack) -> FacePack:
        bounded(len(pack.faces), len(faces), limit, "faces of the person")
        pack.faces += [PackedFace(face.face_id, face.user_data, face.template) for face in faces]
        return pack

    repository.change_pack(person_id, model, join, create=True)
    try:
        searchable.commit(model, [Entry(ADD, person_id, face.face_id, face.template) for face in faces])
        repository.get_person(person_id)
    except Exception:
        try:
            undo_add(person_id, model, face_ids)
        except Exception:  # storage failing: the sweep undoes the add from its operation row
            logger.exception("undoing the add of %s to %s failed", face_ids, person_id)
        raise
    return face_ids


def undo_add(person_id: str, model: str, face_ids: list[str]) -> None:
    """Hide the faces everywhere, then take them out of the pack (whatever of the add happened).
    The pack is emptied of them even when hiding fails (the search engine is away): a face the
    engine may still hold without a pack is removed by the sweep's reconciliation."""
    try:
        searchable.commit(model, [Entry(REMOVE_FACE, person_id, face_id) for face_id in face_ids])
    finally:
        _drop(person_id, model, set(face_ids))


def _drop(person_id: str, model: str, face_ids: set[str]) -> None:
    def without(pack: FacePack) -> FacePack:
        pack.faces = [face for face in pack.faces if face.face_id not in face_ids]
        return pack

    repository.change_pack(person_id, model, without)


# ---------------------------------------------------------------- read / update / delete

def _listed(person_id: str, model: str, face_id: str) -> PackedFace:
    repository.get_person(person_id)
    face = repository.find_pack(person_id, model).find(face_id)
    if face is None:
        raise face_not_found(face_id)
    return face


def get(person_id: str, model: str, face_id: str) -> PackedFace:
    return _listed(person_id, model, face_id)


def update(person_id: str, model: str, face_id: str, user_data: str | None) -> None:
    _listed(person_id, model, face_id)

    def change(pack: FacePack) -> FacePack:
        face = pack.find(face_id)
        if face is None:
            raise face_not_found(face_id)
        if user_data is not None:
            face.user_data = user_data
        return pack

    if not repository.change_pack(person_id, model, change):
        raise face_not_found(face_id)


def listing(person_id: str, model: str) -> dict:
    repository.get_person(person_id)
    return {"personId": person_id, "persistedFaceIds": repository.find_pack(person_id, model).face_ids}


def delete(person_id: str, model: str, face_id: str) -> Operation:
    _listed(person_id, model, face_id)
    operation = operations.start(DELETE_KIND, resource(person_id, model),
                                 {"personId": person_id, "model": model, "faceId": face_id})
    finish_delete(person_id, model, face_id)
    return operations.advance(operation.operation_id, SUCCEEDED)


def finish_delete(person_id: str, model: str, face_id: str) -> None:
    """Hide, then drop from the pack: idempotent, so a racing or a resumed delete is harmless."""
    searchable.commit(model, [Entry(REMOVE_FACE, person_id, face_id)])
    _drop(person_id, model, {face_id})

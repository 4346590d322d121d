"""Persisted faces: add (detect + embed with the container's model), read, update, delete.

Adds count against the limit before the face becomes visible:
- face lists: the container row's FaceCount is reserved first, the face row written after;
- persons: the face row is written first (invisible until listed), then appended to the
  person's FaceIds under an ETag match that enforces the per-person limit.
Either way a failure undoes the first step, so no partial write survives a refused add.
After the face row is written the container is read again (same incarnation?): an add that
raced with the container's delete removes its own row, which the delete's scan may have
missed. A row a crash leaves unlinked is removed by ``orphans.sweep``.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared.engine.engine import get_engine
from shared.engine.types import DETECTION_MODELS, DetectOptions, Rectangle, Template
from shared.errors import BadArgument, InvalidImage, NotFound
from shared.galleries import quotas, repository, validation
from shared.galleries.kinds import ContainerKind
from shared.galleries.records import Container, PersistedFace, Person
from shared.galleries.rows import bounded


@dataclass(frozen=True)
class FaceInput:
    """What an add-face request carries besides the container and person ids."""

    image: bytes
    target_face: Rectangle | None
    detection_model: str
    user_data: str | None


@dataclass(frozen=True)
class FaceOptions:
    """The add-face query parameters, checked before the image is read or downloaded."""

    target_face: Rectangle | None
    detection_model: str
    user_data: str | None

    @classmethod
    def parse(cls, params: dict) -> "FaceOptions":
        model = (params.get("detectionModel") or "detection_01").lower()
        if model not in DETECTION_MODELS:
            raise BadArgument("Invalid detectionModel.")
        return cls(target_face=validation.target_face(params.get("targetFace")), detection_model=model,
                   user_data=validation.user_data(params.get("userData"), validation.FACE_USER_DATA_MAX))

    def with_image(self, image: bytes) -> FaceInput:
        return FaceInput(image, self.target_face, self.detection_model, self.user_data)


def embed_single_face(face: FaceInput, recognition_model: str, embedder: str | None = None) -> Template:
    """The one face of the image (or the one targetFace picks) embedded with the container's model
    (and with ``embedder``, the one the store recorded for that model, when given)."""
    options = DetectOptions(detection_model=face.detection_model, recognition_models=(recognition_model,),
                            target_face=face.target_face, max_faces=2 if face.target_face is None else 100,
                            embedders={recognition_model: embedder} if embedder else {})
    detected = get_engine().detect(face.image, options)
    if not detected:
        raise InvalidImage("No face detected in the image.")
    if len(detected) > 1:
        raise InvalidImage("There is more than 1 face in the image.")
    return detected[0].templates[recognition_model]


# ---------------------------------------------------------------- face lists

def add_to_list(kind: ContainerKind, container_id: str, face: FaceInput) -> str:
    container = repository.get_container(kind, container_id)
    template = embed_single_face(face, container.recognition_model)
    record = PersistedFace(face_id=str(uuid.uuid4()), person_id="", user_data=face.user_data)
    _count_list_faces(container, 1, quotas.limit(kind, "faces"))
    try:
        repository.insert_face(container.incarnation, record, template)
        if kind.trained:
            repository.confirm_container(container)
        else:
            # Touch the row once more: its new ETag tells the FaceList search cache that the face
            # set changed (the reservation above changed it before this face row existed). Being
            # guarded by the incarnation, the touch is also the confirm_container check.
            repository.update_same_container(container, lambda c: c)
    except Exception:
        repository.delete_faces(container.incarnation, [record.face_id])
        _release_list_face(container)
        raise
    return record.face_id


def delete_from_list(kind: ContainerKind, container_id: str, face_id: str) -> None:
    container = repository.get_container(kind, container_id)
    repository.get_face(container.incarnation, face_id)
    if kind.trained:
        repository.add_tombstones(kind, container_id, [face_id])
    if not repository.faces().delete_existing(container.incarnation, face_id):
        raise repository.face_not_found(face_id)  # a racing delete won and releases the count
    _release_list_face(container)


def _count_list_faces(container: Container, delta: int, maximum: int | None) -> None:
    def change(current: Container) -> Container:
        current.face_count = bounded(current.face_count, delta, maximum, f"faces in the {container.kind.display}")
        return current

    repository.update_same_container(container, change)


def _release_list_face(container: Container) -> None:
    try:
        _count_list_faces(container, -1, None)
    except NotFound:
        pass  # the container was deleted, and its count with it


# ---------------------------------------------------------------- person faces

def add_to_person(kind: ContainerKind, container_id: str, person_id: str, face: FaceInput) -> str:
    """Face row, then the container check, then the link to the person (ETag-matched, so it
    fails if the person was deleted meanwhile): every race with a delete either leaves the
    row where the delete's scan finds it or makes this add remove it."""
    container = repository.get_container(kind, container_id)
    repository.get_person(container.incarnation, person_id)  # 404 before spending a detection
    template = embed_single_face(face, container.recognition_model)
    record = PersistedFace(face_id=str(uuid.uuid4()), person_id=person_id, user_data=face.user_data)
    limit = quotas.faces_per_person()

    def append(person: Person) -> Person:
        bounded(len(person.face_ids), 1, limit, "faces of the person")
        person.face_ids.append(record.face_id)
        return person

    try:
        repository.insert_face(container.incarnation, record, template)
        repository.confirm_container(container)
        repository.update_person(container.incarnation, person_id, append)
    except Exception:
        repository.delete_faces(container.incarnation, [record.face_id])
        raise
    return record.face_id


def delete_from_person(kind: ContainerKind, container_id: str, person_id: str, face_id: str) -> None:
    container = repository.get_container(kind, container_id)
    person = repository.get_person(container.incarnation, person_id)
    if face_id not in person.face_ids:
        raise repository.face_not_found(face_id)
    repository.add_tombstones(kind, container_id, [face_id])

    def remove(current: Person) -> Person:
        if face_id not in current.face_ids:
            raise repository.face_not_found(face_id)
        current.face_ids.remove(face_id)
        return current

    repository.update_person(container.incarnation, person_id, remove)
    repository.delete_faces(container.incarnation, [face_id])


# ---------------------------------------------------------------- read / update (both)

def get(kind: ContainerKind, container_id: str, face_id: str, person_id: str = "") -> PersistedFace:
    container = repository.get_container(kind, container_id)
    if person_id:
        repository.get_person(container.incarnation, person_id)
    return repository.get_face(container.incarnation, face_id, person_id)


def update(kind: ContainerKind, container_id: str, face_id: str, body: dict, person_id: str = "") -> None:
    user_data = validation.user_data(body.get("userData"), validation.FACE_USER_DATA_MAX)
    container = repository.get_container(kind, container_id)
    if person_id:
        repository.get_person(container.incarnation, person_id)

    def change(face: PersistedFace) -> PersistedFace:
        if user_data is not None:
            face.user_data = user_data
        return face

    repository.update_face(container.incarnation, face_id, person_id, change)


def list_faces(kind: ContainerKind, container_id: str, start: str, top: int) -> list[dict]:
    container = repository.get_container(kind, container_id)
    return [face.as_json() for face in repository.list_faces(container.incarnation, start, top)]

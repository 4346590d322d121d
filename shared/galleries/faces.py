"""Persisted faces: add (detect + embed with the container's model), read, update, delete.

Adds count against the limit before the face becomes visible:
- face lists: the container row's FaceCount is reserved first, in one transaction with an
  ``add-face`` intent (shared.storage.intents), and the face row written after; a delete
  counts out with a ``delete-face`` intent, then removes the row. The sweep settles an intent
  a crash or outage leaves (``pending.finish_interrupted``): a delete is finished, an add old
  enough that its request is over keeps its face if the row exists, else its count goes back;
- persons: the face row is written first (invisible until listed), then appended to the
  person's FaceIds under an ETag match that enforces the per-person limit. A refused add
  removes its row; a row an outage or crash leaves unlinked is removed by ``orphans.sweep_rows``.
  A delete writes a ``delete-person-face`` intent first, which the sweep finishes.
After the face row is written the container is read again (same incarnation?): an add that
raced with the container's delete removes its own row, which the delete's scan may have
missed.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared.engine.engine import get_engine
from shared.engine.types import DETECTION_MODELS, DetectOptions, Rectangle, Template
from shared.errors import BadArgument, FaceApiError, InvalidImage, NotFound, ServiceUnavailable
from shared.galleries import postgres_index, quotas, repository, validation
from shared.galleries.containers import count_member_out, member_subject, settle_added_member
from shared.galleries.kinds import ContainerKind
from shared.galleries.records import Container, PersistedFace, Person
from shared.storage.rows import bounded, settle
from shared.storage import intents
from shared.storage.tables import ConcurrentUpdate

ADD, DELETE, DELETE_PERSON_FACE = "add-face", "delete-face", "delete-person-face"


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
    template = embed_single_face(face, container.recognition_model, container.embedder)
    record = PersistedFace(face_id=str(uuid.uuid4()), person_id="", user_data=face.user_data)
    container, intent = _count_in(container, record.face_id)
    table = repository.containers()
    try:
        repository.insert_face(container.incarnation, record, template)
        _index(kind, container, record, template)
        if kind.trained:
            repository.confirm_container(container)
        else:
            # Touch the row once more: its new ETag tells the FaceList search cache that the face
            # set changed (the reservation above changed it before this face row existed). Being
            # guarded by the incarnation, the touch is also the confirm_container check.
            repository.update_same_container(container, lambda c: c)
    except NotFound:
        # Deleted while the row was written (its delete released the count): remove the row,
        # which the delete's scan may have missed.
        _unindex(kind, container.incarnation, "", record.face_id)
        repository.delete_faces(container.incarnation, [record.face_id])
        intents.resolve(table, intent)
        raise
    except ServiceUnavailable:
        # The search engine is away: the row goes, and the intent stays for the sweep, which
        # counts the face out again (its row is missing).
        repository.delete_faces(container.incarnation, [record.face_id])
        raise
    intents.resolve(table, intent)
    return record.face_id


def delete_from_list(kind: ContainerKind, container_id: str, face_id: str) -> None:
    """Count the face out with a ``delete-face`` intent (a racing delete of the same face
    meets it and answers 404), then ``finish_list_delete``."""
    def payload(container: Container) -> dict:
        repository.get_face(container.incarnation, face_id)
        return _payload(container, face_id)

    finish_list_delete(kind, count_member_out(kind, container_id, "face", face_id, DELETE, payload, _count_out,
                                              lambda: repository.face_not_found(face_id)))


def finish_list_delete(kind: ContainerKind, intent: intents.Intent) -> None:
    """Tombstone (trained lists: searches on the current snapshot drop the face at once),
    then the row; idempotent."""
    payload = intent.payload
    _unindex(kind, payload["incarnation"], "", payload["face"], strict=True)
    if kind.trained:
        repository.add_tombstones(kind, payload["id"], [payload["face"]])
    repository.delete_faces(payload["incarnation"], [payload["face"]])
    intents.resolve(repository.containers(), intent)


def settle_list_add(kind: ContainerKind, intent: intents.Intent) -> None:
    """An add whose request is over: the face is kept if its row exists, else its count goes back."""
    settle_added_member(kind, intent, repository.faces(), intent.payload["face"], _count_out)


def _count_out(container: Container) -> list[tuple]:
    """The operation giving back the list's count of one face."""
    container.face_count = bounded(container.face_count, -1, None, "faces")
    return [repository.container_change(container)]


def _count_in(container: Container, face_id: str) -> tuple[Container, intents.Intent]:
    """Count the face against the list's limit, with its ``add-face`` intent; 404 if the
    container was deleted (or re-created) since ``container`` was read."""
    kind, table, reserved = container.kind, repository.containers(), []

    def counted_in() -> list[tuple]:
        current = repository.get_container(kind, container.container_id)
        if current.incarnation != container.incarnation:
            raise repository.container_not_found(kind, container.container_id)
        current.face_count = bounded(current.face_count, 1, quotas.limit(kind, "faces"),
                                     f"faces in the {kind.display}")
        intent = intents.Intent(kind.key, member_subject(current.incarnation, "face", face_id), ADD,
                                _payload(current, face_id))
        reserved[:] = [current, intent]
        return [repository.container_change(current), intent.create()]

    results = settle(table, counted_in)
    return reserved[0], reserved[1].stored(results[1])


def _payload(container: Container, face_id: str) -> dict:
    return {"id": container.container_id, "incarnation": container.incarnation, "face": face_id}


# ---------------------------------------------------------------- person faces

def add_to_person(kind: ContainerKind, container_id: str, person_id: str, face: FaceInput) -> str:
    """Face row, then the container check, then the link to the person (ETag-matched, so it
    fails if the person was deleted meanwhile): every race with a delete either leaves the
    row where the delete's scan finds it or makes this add remove it."""
    container = repository.get_container(kind, container_id)
    repository.get_person(container.incarnation, person_id)  # 404 before spending a detection
    template = embed_single_face(face, container.recognition_model, container.embedder)
    record = PersistedFace(face_id=str(uuid.uuid4()), person_id=person_id, user_data=face.user_data)
    limit = quotas.faces_per_person()

    def append(person: Person) -> Person:
        bounded(len(person.face_ids), 1, limit, "faces of the person")
        person.face_ids.append(record.face_id)
        return person

    try:
        repository.insert_face(container.incarnation, record, template)
        repository.confirm_container(container)
        _index(kind, container, record, template)
        repository.update_person(container.incarnation, person_id, append)
    except FaceApiError:
        # Refused (container or person gone, person full, contention, search engine away):
        # the link did not happen, so the row goes (and its vector, searchable only after a
        # training, which would drop it too). After a storage outage the link may or may not
        # have landed; the row stays, and the sweep removes it if no person lists it.
        _unindex(kind, container.incarnation, person_id, record.face_id)
        repository.delete_faces(container.incarnation, [record.face_id])
        raise
    return record.face_id


def delete_from_person(kind: ContainerKind, container_id: str, person_id: str, face_id: str) -> None:
    """Write a ``delete-person-face`` intent (a racing delete of the same face meets it and
    answers 404), then ``finish_person_face_delete``."""
    container = repository.get_container(kind, container_id)
    person = repository.get_person(container.incarnation, person_id)
    if face_id not in person.face_ids:
        raise repository.face_not_found(face_id)
    intent = intents.Intent(kind.key, member_subject(container.incarnation, "face", face_id), DELETE_PERSON_FACE,
                            {**_payload(container, face_id), "person": person_id})
    try:
        claimed = intent.stored(repository.containers().transact_matched([intent.create()])[0])
    except ConcurrentUpdate:
        raise repository.face_not_found(face_id) from None  # another delete owns it
    finish_person_face_delete(kind, claimed)


def finish_person_face_delete(kind: ContainerKind, intent: intents.Intent) -> None:
    """Tombstone (searches on the current snapshot drop the face at once), unlink from the
    person, delete the row; idempotent."""
    payload = intent.payload
    incarnation, face_id = payload["incarnation"], payload["face"]
    _unindex(kind, incarnation, payload["person"], face_id, strict=True)
    repository.add_tombstones(kind, payload["id"], [face_id])

    def unlink(person: Person) -> Person:
        if face_id in person.face_ids:
            person.face_ids.remove(face_id)
        return person

    try:
        repository.update_person(incarnation, payload["person"], unlink)
    except NotFound:
        pass  # the person went meanwhile, taking its face list with it
    repository.delete_faces(incarnation, [face_id])
    intents.resolve(repository.containers(), intent)


def _index(kind: ContainerKind, container: Container, record: PersistedFace, template: Template) -> None:
    if postgres_index.applies(kind):
        postgres_index.add_face(container, record.person_id, record.face_id, template.vector)


def _unindex(kind: ContainerKind, incarnation: str, person_id: str, face_id: str, strict: bool = False) -> None:
    """Remove the face's vector; a delete needs it gone (``strict``: a failure answers 503 and
    the sweep finishes the delete), an undone add only tries (a training drops it anyway)."""
    if not postgres_index.applies(kind):
        return
    try:
        postgres_index.remove_faces(incarnation, person_id, [face_id])
    except FaceApiError:
        if strict:
            raise


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

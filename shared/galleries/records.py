"""Gallery records as stored, and their JSON shapes on the wire.

Containers, persons and persisted faces are plain dataclasses; ``repository`` maps them to
Table rows. A container's persons and faces live under the container's ``incarnation`` (a
fresh UUID per create), so a container deleted and created again under the same id never
sees rows, snapshots or queued training work of its predecessor.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from shared.engine.embedders import DLIB_EMBEDDER
from shared.galleries.kinds import ContainerKind
from shared.galleries.training_status import NOT_STARTED, TrainingState


# The embedder of a container row written before containers recorded theirs: dlib's, which
# served every recognition model until then.
LEGACY_EMBEDDER = DLIB_EMBEDDER


@dataclass
class Container:
    kind: ContainerKind
    container_id: str
    name: str
    user_data: str | None
    recognition_model: str
    incarnation: str
    created: str
    face_count: int = 0  # face lists only
    person_count: int = 0  # person groups only
    training: TrainingState | None = None  # None: never trained
    generation: int = 0  # bumped by each train request; queued work carries it
    snapshot: str = ""  # blob name of the published index, "" before the first success
    training_operation: str = ""  # operationId of the latest train request (shared/operations)
    version: str = ""  # the row's ETag when read: changes with every write, incl. each face add/delete
    # The embedder its templates come from, fixed at create (recognition_embedders() then), so a
    # later change of the recognition model's default never mixes two embedders in one index.
    embedder: str = LEGACY_EMBEDDER

    def training_state(self) -> TrainingState:
        return self.training or TrainingState(NOT_STARTED, self.created, None, None)

    @property
    def has_snapshot(self) -> bool:
        return self.training is not None and self.training.last_success is not None

    @property
    def first_training_running(self) -> bool:
        return not self.has_snapshot and self.training is not None and self.training.in_progress

    def as_json(self, return_recognition_model: bool) -> dict:
        body = {self.kind.id_field: self.container_id, "name": self.name}
        if self.user_data is not None:
            body["userData"] = self.user_data
        if return_recognition_model:
            body["recognitionModel"] = self.recognition_model
        return body


@dataclass
class Person:
    person_id: str
    name: str
    user_data: str | None
    face_ids: list[str] = field(default_factory=list)  # the person's live faces, in add order

    def as_json(self) -> dict:
        body = {"personId": self.person_id, "name": self.name}
        if self.user_data is not None:
            body["userData"] = self.user_data
        body["persistedFaceIds"] = list(self.face_ids)
        return body


@dataclass
class PersistedFace:
    face_id: str
    person_id: str  # "" in face lists
    user_data: str | None

    def as_json(self) -> dict:
        body = {"persistedFaceId": self.face_id}
        if self.user_data is not None:
            body["userData"] = self.user_data
        return body



class _Named(Protocol):
    name: str
    user_data: str | None


Named = TypeVar("Named", bound=_Named)  # containers and persons, of galleries and the directory


def patched(record: Named, name: str | None, user_data: str | None) -> Named:
    """``record`` with what a PATCH body gave (None leaves a field as it is)."""
    if name is not None:
        record.name = name
    if user_data is not None:
        record.user_data = user_data
    return record

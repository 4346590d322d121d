"""PersonDirectory records as stored, and their JSON shapes on the wire."""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.engine.types import Template


@dataclass
class DirectoryPerson:
    person_id: str
    name: str
    user_data: str | None

    def as_json(self) -> dict:
        body = {"personId": self.person_id, "name": self.name}
        if self.user_data is not None:
            body["userData"] = self.user_data
        return body


@dataclass
class PackedFace:
    face_id: str
    user_data: str | None
    template: Template

    def as_json(self) -> dict:
        body = {"persistedFaceId": self.face_id}
        if self.user_data is not None:
            body["userData"] = self.user_data
        return body


@dataclass
class FacePack:
    """A person's faces of one recognition model, in add order: the source of truth for them."""

    person_id: str
    model: str
    faces: list[PackedFace] = field(default_factory=list)

    @property
    def face_ids(self) -> list[str]:
        return [face.face_id for face in self.faces]

    def find(self, face_id: str) -> PackedFace | None:
        return next((face for face in self.faces if face.face_id == face_id), None)


@dataclass
class DynamicGroup:
    group_id: str
    name: str
    user_data: str | None
    incarnation: str  # a fresh id per create: members are keyed by it
    version: str = ""  # the row's ETag when read; every membership change rewrites the row

    def as_json(self) -> dict:
        body = {"dynamicPersonGroupId": self.group_id, "name": self.name}
        if self.user_data is not None:
            body["userData"] = self.user_data
        return body

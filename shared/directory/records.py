"""PersonDirectory records as stored, and their JSON shapes on the wire."""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.engine.types import RECOGNITION_MODELS


@dataclass
class DirectoryPerson:
    person_id: str
    name: str
    user_data: str | None
    faces: dict[str, list[str]] = field(default_factory=dict)  # recognition model -> faces in add order

    def faces_of(self, model: str) -> list[str]:
        return self.faces.setdefault(model, [])

    @property
    def models(self) -> list[str]:
        return [model for model in RECOGNITION_MODELS if self.faces.get(model)]

    def as_json(self) -> dict:
        body = {"personId": self.person_id, "name": self.name}
        if self.user_data is not None:
            body["userData"] = self.user_data
        return body


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

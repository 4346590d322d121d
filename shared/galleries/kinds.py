"""The four gallery container kinds and what differs between them.

Everything kind-specific (route segment, JSON id field, error codes, whether the container
holds persons and whether it must be trained) lives here so that the storage, training and
route code is written once for all four kinds.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContainerKind:
    key: str  # storage partition and queue-message name, e.g. "largepersongroup"
    route: str  # URL segment, e.g. "largepersongroups"
    label: str  # Azure's resource name used in error codes, e.g. "LargePersonGroup"
    id_field: str  # JSON field / path parameter, e.g. "largePersonGroupId"
    has_persons: bool
    trained: bool  # FaceList is searched exactly and never trained

    @property
    def not_found_code(self) -> str:
        return f"{self.label}NotFound"

    @property
    def exists_code(self) -> str:
        return f"{self.label}Exists"

    @property
    def not_trained_code(self) -> str:
        return f"{self.label}NotTrained"

    @property
    def training_conflict_code(self) -> str:
        return f"{self.label}TrainingNotFinished"

    @property
    def display(self) -> str:
        """Lower-case words for messages, e.g. "large person group"."""
        words = []
        for char in self.label:
            if char.isupper() and words:
                words.append(" ")
            words.append(char.lower())
        return "".join(words)


FACE_LIST = ContainerKind("facelist", "facelists", "FaceList", "faceListId", False, False)
LARGE_FACE_LIST = ContainerKind("largefacelist", "largefacelists", "LargeFaceList", "largeFaceListId", False, True)
PERSON_GROUP = ContainerKind("persongroup", "persongroups", "PersonGroup", "personGroupId", True, True)
LARGE_PERSON_GROUP = ContainerKind(
    "largepersongroup", "largepersongroups", "LargePersonGroup", "largePersonGroupId", True, True
)

KINDS: dict[str, ContainerKind] = {kind.key: kind for kind in (FACE_LIST, LARGE_FACE_LIST, PERSON_GROUP, LARGE_PERSON_GROUP)}

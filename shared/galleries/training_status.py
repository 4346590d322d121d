"""Training state of a container and its JSON form per api-version (face-api.md §7).

The state lives on the container row. ``status`` is stored in v1.2 spelling; v1.0 clients
get the service's lower-case ``notstarted``.
"""
from __future__ import annotations

from dataclasses import dataclass

from shared.operations.status import FAILED, IN_PROGRESS, NOT_STARTED, RUNNING, SUCCEEDED, spelled

__all__ = ["FAILED", "NOT_STARTED", "RUNNING", "SUCCEEDED", "TrainingState", "render"]


@dataclass(frozen=True)
class TrainingState:
    status: str  # one of the four above; NOT_STARTED also when never trained
    created: str  # when the container was created
    last_action: str | None  # last training request or state change
    last_success: str | None  # when the current snapshot was published
    message: str | None = None

    @property
    def in_progress(self) -> bool:
        return self.status in IN_PROGRESS


def render(state: TrainingState, api_version: str) -> dict:
    """TrainingResult (v1.1+) or TrainingStatus (v1.0)."""
    body = {
        "status": spelled(state.status, api_version),
        "createdDateTime": state.created,
        # v1.2 requires both fields; before any action/success they equal the creation time.
        "lastActionDateTime": state.last_action or state.created,
        "lastSuccessfulTrainingDateTime": state.last_success or state.created,
    }
    if api_version == "v1.0" and state.last_success is None:
        body.pop("lastSuccessfulTrainingDateTime")
    if state.message:
        body["message"] = state.message
    return body

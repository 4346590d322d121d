"""The four states of a long-running operation (and of a gallery training), v1.1+ spelling."""
from __future__ import annotations

NOT_STARTED, RUNNING, SUCCEEDED, FAILED = "notStarted", "running", "succeeded", "failed"
IN_PROGRESS = (NOT_STARTED, RUNNING)
FINISHED = (SUCCEEDED, FAILED)


def spelled(status: str, version_name: str) -> str:
    """v1.0 writes every status in lower case (``notstarted``)."""
    return status.lower() if version_name == "v1.0" else status

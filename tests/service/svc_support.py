"""Helpers for the service tests (a plain module: conftest files are not importable)."""
from __future__ import annotations

import os
from pathlib import Path

from azure.cognitiveservices.vision.face.models import APIErrorException

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared")
PHOTOS = SHARED_DIR / "data" / "faces"


def person_photos(person: str) -> list[Path]:
    return sorted((PHOTOS / "persons" / person).glob("*.jpg"))


def all_people() -> list[str]:
    return sorted(path.name for path in (PHOTOS / "persons").iterdir() if path.is_dir())


def error_code(exc: Exception) -> str:
    """error.code of a new-SDK HttpResponseError or an old-SDK APIErrorException."""
    if isinstance(exc, APIErrorException):
        return exc.error.error.code
    return exc.error.code

"""Helpers for the service tests (a plain module: conftest files are not importable)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from azure.cognitiveservices.vision.face.models import APIErrorException

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared")
PHOTOS = SHARED_DIR / "data" / "faces"
OPENAPI = SHARED_DIR / "reference" / "openapi"
COMMON_REF = "../../../Common/Parameters.json#/"  # face-v1.0*.json's shared parameters file


def person_photos(person: str) -> list[Path]:
    return sorted((PHOTOS / "persons" / person).glob("*.jpg"))


def all_people() -> list[str]:
    return sorted(path.name for path in (PHOTOS / "persons").iterdir() if path.is_dir())


def error_code(exc: Exception) -> str:
    """error.code of a new-SDK HttpResponseError or an old-SDK APIErrorException."""
    if isinstance(exc, APIErrorException):
        return exc.error.error.code
    return exc.error.code


def load_openapi(file_name: str) -> dict:
    """An OpenAPI document of reference/openapi, with the shared parameters file that the v1.0
    documents refer to folded in (schemathesis cannot follow that relative reference)."""
    text = (OPENAPI / file_name).read_text(encoding="utf-8")
    if COMMON_REF not in text:
        return json.loads(text)
    common = json.loads((OPENAPI / "cognitiveservices-common-parameters.json").read_text(encoding="utf-8"))
    spec = json.loads(text.replace(COMMON_REF + "parameters/", "#/parameters/Common"))
    common_text = json.dumps(common).replace('"#/definitions/', '"#/definitions/Common')
    common = json.loads(common_text)
    spec["parameters"].update({f"Common{name}": item for name, item in common["parameters"].items()})
    spec["definitions"].update({f"Common{name}": item for name, item in common["definitions"].items()})
    return spec

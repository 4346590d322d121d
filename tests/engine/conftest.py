"""Shared fixtures for engine tests: where the read-only test data and models live.

The data folder is ../shared next to the repo (override with FACE_SHARED_DIR). Models are
looked up through FACE_MODEL_MIRRORS; when unset, the shared models folder is used, as the
Makefile and CI do.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared").resolve()
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))


def read_bytes(path: Path) -> bytes:
    return Path(path).read_bytes()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    assert SHARED_DIR.is_dir(), f"shared test data not found at {SHARED_DIR} (set FACE_SHARED_DIR)"
    return SHARED_DIR


@pytest.fixture(scope="session")
def faces_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "faces"


@pytest.fixture(scope="session")
def liveness_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "liveness"


@pytest.fixture(scope="session")
def person_photos(faces_dir: Path) -> list[Path]:
    return sorted((faces_dir / "persons").glob("*/*.jpg"))

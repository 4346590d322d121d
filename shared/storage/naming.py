"""Storage account connection and resource names.

Every table, container and queue name starts with FACE_STORAGE_PREFIX so that test runs
(and several deployments sharing one account) stay isolated. The prefix is 1-20 lowercase
letters or digits starting with a letter, so it is valid in table, container and queue
names alike. Queue-triggered functions put queue_name(<base>) into their binding when the
app is imported (functions/training.py), so the worker listens where WorkQueue sends.
"""
from __future__ import annotations

import re

from shared.settings import env_str

CONNECTION_SETTING = "AzureWebJobsStorage"
_PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,19}$")


def connection_string() -> str:
    value = env_str(CONNECTION_SETTING)
    if not value:
        raise RuntimeError(f"setting {CONNECTION_SETTING} is not set")
    return value


def prefix() -> str:
    value = env_str("FACE_STORAGE_PREFIX", "face")
    if not _PREFIX_PATTERN.match(value):
        raise RuntimeError("FACE_STORAGE_PREFIX must be 1-20 lowercase letters/digits, starting with a letter")
    return value


def table_name(base: str) -> str:
    """Tables allow only letters and digits."""
    return f"{prefix()}{base}"


def container_name(base: str) -> str:
    return f"{prefix()}-{base}"


def queue_name(base: str) -> str:
    return f"{prefix()}-{base}"

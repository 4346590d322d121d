"""Typed access to app settings.

Azure Functions exposes app settings (and local.settings.json Values) as environment
variables, so every setting is read from the environment at call time. Each module names
its own settings; this module only parses them.
"""
from __future__ import annotations

import os


def env_str(name: str, default: str = "") -> str:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    return default if value == "" else int(value)


def env_float(name: str, default: float) -> float:
    value = env_str(name)
    return default if value == "" else float(value)


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name).lower()
    if value == "":
        return default
    return value in ("1", "true", "yes", "on")


def env_list(name: str, default: list[str] | None = None, separator: str = ",") -> list[str]:
    """A separated list setting; blank items are dropped."""
    value = env_str(name)
    if value == "":
        return list(default or [])
    return [item.strip() for item in value.split(separator) if item.strip()]

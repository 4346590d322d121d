"""Reading query parameters and JSON fields with Azure's validation and error codes.

Names are matched without regard to case, as ASP.NET model binding does. Every problem is
a 400 BadArgument naming the parameter, never a 500.
"""
from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence

from shared.errors import BadArgument


class Query:
    """The query string of one request."""

    def __init__(self, params: Mapping[str, str]):
        self._values = {name.lower(): value for name, value in params.items()}

    def text(self, name: str) -> str | None:
        return self._values.get(name.lower())

    def boolean(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None or value == "":
            return default
        if value.lower() not in ("true", "false"):
            raise BadArgument(f"Invalid {name}: must be true or false.")
        return value.lower() == "true"

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.text(name)
        if value is None or value == "":
            return default
        return checked_int(name, _to_int(name, value), low, high)

    def choice(self, name: str, default: str, choices: Sequence[str]) -> str:
        value = self.text(name)
        if value is None or value == "":
            return default
        return checked_choice(name, value, choices)

    def csv(self, name: str) -> list[str]:
        value = self.text(name) or ""
        return [item.strip() for item in value.split(",") if item.strip()]


class Fields:
    """The members of a JSON object body."""

    def __init__(self, body: Mapping[str, object]):
        self._values = {name.lower(): value for name, value in body.items()}

    def has(self, name: str) -> bool:
        return self._values.get(name.lower()) is not None

    def present(self, name: str) -> bool:
        """Whether the member is in the body at all, null included."""
        return name.lower() in self._values

    def get(self, name: str) -> object:
        return self._values.get(name.lower())

    def uuid(self, name: str) -> str:
        return parse_uuid(name, self.get(name))

    def uuid_list(self, name: str, low: int, high: int) -> list[str]:
        value = self.get(name)
        if not isinstance(value, list):
            raise BadArgument(f"{name} is required and must be an array.")
        if not low <= len(value) <= high:
            raise BadArgument(f"The number of {name} must be between {low} and {high}.")
        return [parse_uuid(name, item) for item in value]

    def boolean(self, name: str, default: bool) -> bool:
        value = self.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise BadArgument(f"{name} must be true or false.")
        return value

    def text(self, name: str, max_length: int) -> str | None:
        value = self.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not 0 < len(value) <= max_length:
            raise BadArgument(f"{name} must be a string of 1 to {max_length} characters.")
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
            raise BadArgument(f"{name} must be an integer.")
        return checked_int(name, int(value), low, high)

    def number(self, name: str, low: float, high: float) -> float | None:
        value = self.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise BadArgument(f"{name} must be a number.")
        if not low <= value <= high:
            raise BadArgument(f"{name} is out of range [{low}, {high}].")
        return float(value)

    def choice(self, name: str, default: str, choices: Sequence[str]) -> str:
        value = self.get(name)
        if value is None:
            return default
        if not isinstance(value, str):
            raise BadArgument(f"{name} must be a string.")
        return checked_choice(name, value, choices)


def parse_uuid(name: str, value: object) -> str:
    """A canonical lower-case UUID string; Azure ids compare without regard to case."""
    if value is None:
        raise BadArgument(f"{name} is required.")
    if not isinstance(value, str):
        raise BadArgument(f"Invalid {name}.")
    try:
        return str(uuid.UUID(value))
    except ValueError as err:
        raise BadArgument(f"Invalid {name}.") from err


def checked_int(name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise BadArgument(f"{name} is out of range [{low}, {high}].")
    return value


def checked_choice(name: str, value: str, choices: Sequence[str]) -> str:
    """The canonical spelling of ``value`` among ``choices`` (matched without case)."""
    for choice in choices:
        if choice.lower() == value.lower():
            return choice
    raise BadArgument(f"Invalid {name}: must be one of {', '.join(choices)}.")


def _to_int(name: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError as err:
        raise BadArgument(f"{name} must be an integer.") from err

"""Field rules shared by every gallery route (face-api.md §1, §6-9, §13).

Each function takes the raw value from the request and returns the clean value or raises
BadArgument with a message in the style of the service.
"""
from __future__ import annotations

import re

from shared.engine.types import RECOGNITION_MODELS, Rectangle
from shared.errors import BadArgument

_ID_PATTERN = re.compile(r"^[a-z0-9\-_]{1,64}$")
NAME_MAX = 128
USER_DATA_MAX = 16384
FACE_USER_DATA_MAX = 1024
TOP_MAX = 1000
START_MAX = 64
DEFAULT_RECOGNITION_MODEL = "recognition_01"


def container_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not _ID_PATTERN.match(value):
        raise BadArgument(f"Invalid {field}: it must be 1-64 characters of lower-case letters, digits, '-' or '_'.")
    return value


def name(value: object, *, required: bool) -> str | None:
    if value is None:
        if required:
            raise BadArgument("Name is required.")
        return None
    if not isinstance(value, str) or not value:
        raise BadArgument("Name is empty." if value == "" else "Invalid name.")
    if len(value) > NAME_MAX:
        raise BadArgument("Name is too long.")
    return value


def user_data(value: object, limit: int = USER_DATA_MAX) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadArgument("Invalid userData.")
    if len(value) > limit:
        raise BadArgument("User data is too long.")
    return value


def recognition_model(value: object) -> str:
    if value is None:
        return DEFAULT_RECOGNITION_MODEL
    if not isinstance(value, str) or value.lower() not in RECOGNITION_MODELS:
        raise BadArgument("Invalid recognitionModel.")
    return value.lower()


def paging(start: str | None, top: str | None) -> tuple[str, int]:
    """``start``/``top`` query values -> (exclusive lower bound, page size)."""
    start = start or ""
    if len(start) > START_MAX:
        raise BadArgument("Start is too long.")
    if top is None or top == "":
        return start, TOP_MAX
    try:
        count = int(top)
    except ValueError:
        raise BadArgument("Invalid top.") from None
    if not 1 <= count <= TOP_MAX:
        raise BadArgument("Top is out of range: it must be between 1 and 1000.")
    return start, count


def target_face(value: str | None) -> Rectangle | None:
    """``targetFace=left,top,width,height`` -> Rectangle."""
    if value is None or value == "":
        return None
    parts = value.split(",")
    try:
        numbers = [int(part.strip()) for part in parts]
    except ValueError:
        raise BadArgument("Invalid targetFace.") from None
    if len(numbers) != 4 or numbers[0] < 0 or numbers[1] < 0 or numbers[2] <= 0 or numbers[3] <= 0:
        raise BadArgument("Invalid targetFace.")
    return Rectangle(left=numbers[0], top=numbers[1], width=numbers[2], height=numbers[3])


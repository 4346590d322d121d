"""Request bodies: JSON objects and raw image bytes, told apart by Content-Type."""
from __future__ import annotations

import json
from collections.abc import Mapping

from shared.api.params import Fields
from shared.errors import BadArgument, PayloadTooLarge, UnsupportedMediaType

JSON = "application/json"
OCTET_STREAM = "application/octet-stream"
# The largest JSON bodies the API defines are ~40 KB (a group of 1,000 faceIds) plus lists of
# person ids to add to a dynamic person group (no documented maximum: 4 MB holds 100,000);
# the cap bounds what json.loads may build from one request.
MAX_JSON_BYTES = 4 * 1024 * 1024


def media_type(headers: Mapping[str, str]) -> str:
    """The Content-Type without parameters such as "; charset=utf-8", lower-cased."""
    return (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()


def require_media_type(headers: Mapping[str, str], allowed: tuple[str, ...]) -> str:
    kind = media_type(headers)
    if kind not in allowed:
        shown = kind or "(none)"
        raise UnsupportedMediaType(f"Unsupported media type {shown}; expected {' or '.join(allowed)}.")
    return kind


def json_fields(headers: Mapping[str, str], body: bytes) -> Fields:
    """The JSON object a JSON-only operation received."""
    require_media_type(headers, (JSON,))
    return parse_json_object(body)


def parse_json_object(body: bytes) -> Fields:
    if len(body) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"Request body is too large: at most {MAX_JSON_BYTES} bytes of JSON.")
    try:
        value = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:  # RecursionError: nesting too deep
        raise BadArgument("Request body is invalid.") from err
    if not isinstance(value, dict):
        raise BadArgument("Request body is invalid.")
    return Fields(value)

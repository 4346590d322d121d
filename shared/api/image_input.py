"""The image of a detect or add-face request: raw bytes, a JSON {"url"} to download, or (detect
in v1.2 and v1.2-preview.1) a JSON {"sessionImageId"} of a liveness session image.

The bytes live only in memory for the length of the request; nothing here writes them.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from shared.api.body import JSON, OCTET_STREAM, parse_json_object, require_media_type
from shared.api.urlfetch import fetch_image
from shared.errors import BadArgument


def request_image(headers: Mapping[str, str], body: bytes,
                  session_image: Callable[[str], bytes] | None = None) -> bytes:
    """``session_image`` reads a session image by id, where the operation accepts one."""
    if require_media_type(headers, (OCTET_STREAM, JSON)) == OCTET_STREAM:
        return body
    fields = parse_json_object(body)
    if session_image is not None and fields.has("sessionImageId"):
        image_id = fields.get("sessionImageId")
        if not isinstance(image_id, str) or not image_id:
            raise BadArgument("sessionImageId must be a non-empty string.")
        return session_image(image_id)
    url = fields.get("url")
    if not isinstance(url, str):
        raise BadArgument("Request body is invalid: expected {\"url\": \"<image url>\"}.")
    return fetch_image(url)

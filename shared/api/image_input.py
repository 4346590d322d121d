"""The image of a detect or add-face request: raw bytes, or a JSON {"url"} to download.

The bytes live only in memory for the length of the request; nothing here writes them.
"""
from __future__ import annotations

from collections.abc import Mapping

from shared.api.body import JSON, OCTET_STREAM, parse_json_object, require_media_type
from shared.api.urlfetch import fetch_image
from shared.errors import BadArgument


def request_image(headers: Mapping[str, str], body: bytes) -> bytes:
    if require_media_type(headers, (OCTET_STREAM, JSON)) == OCTET_STREAM:
        return body
    fields = parse_json_object(body)
    url = fields.get("url")
    if not isinstance(url, str):
        raise BadArgument("Request body is invalid: expected {\"url\": \"<image url>\"}.")
    return fetch_image(url)

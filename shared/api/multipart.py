"""multipart/form-data bodies (RFC 7578): the liveness-with-verify create and the liveness
client route. Parsed exactly (binary parts byte for byte), bounded in part count, and every
malformation is a 400 BadArgument, never a 500."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from shared.api.body import media_type
from shared.errors import BadArgument, UnsupportedMediaType

FORM_DATA = "multipart/form-data"
_BOUNDARY = re.compile(r'boundary="?([^";]{1,200})"?', re.IGNORECASE)
_DISPOSITION_PARAM = re.compile(r';\s*([a-z*]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', re.IGNORECASE)


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str  # lower-case, without parameters; "" when the part has none
    data: bytes

    def text(self) -> str:
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise BadArgument(f"Form field {self.name} is not valid UTF-8 text.") from err


def parse_form(headers: Mapping[str, str], body: bytes, max_parts: int) -> list[Part]:
    """The parts in order; 415 when the body is not multipart/form-data."""
    if media_type(headers) != FORM_DATA:
        raise UnsupportedMediaType(f"Unsupported media type {media_type(headers) or '(none)'}; expected {FORM_DATA}.")
    found = _BOUNDARY.search(headers.get("Content-Type") or "")
    if not found:
        raise BadArgument("multipart/form-data body without a boundary.")
    delimiter = b"--" + found.group(1).strip().encode("latin-1")
    if not body.startswith(delimiter):
        raise BadArgument("Malformed multipart/form-data body.")
    chunks = body[len(delimiter):].split(b"\r\n" + delimiter)
    if len(chunks) < 2 or not chunks[-1].startswith(b"--"):
        raise BadArgument("Malformed multipart/form-data body: no closing boundary.")
    if len(chunks) - 1 > max_parts:
        raise BadArgument(f"Too many parts in the multipart/form-data body (at most {max_parts}).")
    return [_part(chunk) for chunk in chunks[:-1]]


def _part(chunk: bytes) -> Part:
    if not chunk.startswith(b"\r\n"):
        raise BadArgument("Malformed multipart/form-data body.")
    head, separator, data = chunk[2:].partition(b"\r\n\r\n")
    if not separator:
        raise BadArgument("Malformed multipart/form-data part: no header end.")
    fields = {}
    for line in head.decode("latin-1").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            fields[name.strip().lower()] = value.strip()
    disposition = fields.get("content-disposition", "")
    if not disposition.lower().startswith("form-data"):
        raise BadArgument("Every multipart part needs Content-Disposition: form-data.")
    params = {key.lower(): _unquote(value) for key, value in _DISPOSITION_PARAM.findall(disposition)}
    if not params.get("name"):
        raise BadArgument("Every multipart part needs a name.")
    content_type = fields.get("content-type", "").split(";", 1)[0].strip().lower()
    return Part(params["name"], params.get("filename"), content_type, data)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def fields_by_name(parts: list[Part]) -> dict[str, Part]:
    """Parts keyed by lower-case name; a name sent twice is a 400."""
    named: dict[str, Part] = {}
    for part in parts:
        key = part.name.lower()
        if key in named:
            raise BadArgument(f"Form field {part.name} is given more than once.")
        named[key] = part
    return named

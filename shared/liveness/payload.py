"""The client route's body (defined here; Azure does not publish its own), documented in
docs/liveness.md:

    Content-Type: multipart/form-data
    part "metadata" (optional, application/json):
        {"deviceCorrelationId": "<id>",              only when the session lets the client set it
         "userCorrelationId": "<id>",                the same, for v1.3's userCorrelationIdSetInClient
         "frames": [{"timeOffsetMs": 0}, ...]}       optional, one per frame, capture times
    part "frame", 1..MAX_FRAMES times (image/jpeg), in capture order

The whole body is at most MAX_BODY_BYTES and holds at most MAX_FRAMES frames (else 413).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.api.body import parse_json_object
from shared.api.multipart import parse_form
from shared.errors import BadArgument, InvalidImage, PayloadTooLarge
from shared.liveness.frames import Frame
from shared.liveness.requests import MAX_DEVICE_ID_LENGTH

MAX_FRAMES = 24
MAX_BODY_BYTES = 8 * 1024 * 1024
_JPEG_SIGNATURE = b"\xff\xd8\xff"


@dataclass(frozen=True)
class Payload:
    frames: list[Frame]
    device_correlation_id: str | None
    user_correlation_id: str | None = None


def parse_payload(headers: Mapping[str, str], body: bytes) -> Payload:
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    parts = parse_form(headers, body, max_parts=MAX_FRAMES + 8)
    frames = [part for part in parts if part.name.lower() == "frame"]
    metadata_parts = [part for part in parts if part.name.lower() == "metadata"]
    if len(frames) > MAX_FRAMES:
        raise PayloadTooLarge(f"At most {MAX_FRAMES} frames may be sent.")
    if not frames:
        raise BadArgument("At least one frame part is required.")
    if len(metadata_parts) > 1 or len(frames) + len(metadata_parts) != len(parts):
        raise BadArgument("Only one metadata part and frame parts are allowed.")
    metadata = parse_json_object(metadata_parts[0].data) if metadata_parts else parse_json_object(b"{}")
    offsets = _offsets(metadata.get("frames"), len(frames))
    for index, part in enumerate(frames):
        if not part.data.startswith(_JPEG_SIGNATURE):
            raise InvalidImage(f"Frame {index} is not a JPEG image.")
    return Payload([Frame(index, offset, part.data) for index, (part, offset) in enumerate(zip(frames, offsets))],
                   metadata.text("deviceCorrelationId", MAX_DEVICE_ID_LENGTH),
                   metadata.text("userCorrelationId", MAX_DEVICE_ID_LENGTH))


def _offsets(described: object, count: int) -> list[int]:
    if described is None:
        return [0] * count
    if not isinstance(described, list) or len(described) != count:
        raise BadArgument("metadata.frames must list one entry per frame.")
    offsets = []
    for item in described:
        offset = item.get("timeOffsetMs") if isinstance(item, dict) else None
        if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= 3_600_000:
            raise BadArgument("metadata.frames[].timeOffsetMs must be an integer number of milliseconds.")
        offsets.append(offset)
    return offsets

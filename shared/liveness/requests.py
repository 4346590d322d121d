"""Create-session bodies of every version -> SessionSpec, validated as Azure does (400
BadArgument naming the field).

    v1.2 liveness                 JSON CreateLivenessSessionContent
    v1.2 with verify              multipart form: one part per field + verifyImage (file)
    preview liveness              JSON (adds sendResultsToClient, livenessSingleModalModel)
    preview with verify           multipart: Parameters (JSON text) + VerifyImage (file)
    v1.3-preview.1                v1.2's bodies plus userCorrelationId / userCorrelationIdSetInClient,
                                  expectedClientIpAddress and numberOfClientAttemptsAllowed
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from shared.api.body import json_fields, parse_json_object
from shared.api.multipart import Part, fields_by_name, parse_form
from shared.api.client_address import parse_network
from shared.api.params import Fields
from shared.errors import BadArgument
from shared.liveness.kinds import GA_MODELS, MODES, PREVIEW_MODELS

TOKEN_TTL_MIN, TOKEN_TTL_MAX, TOKEN_TTL_DEFAULT = 60, 86400, 600
MAX_DEVICE_ID_LENGTH = 64
MAX_IP_TEXT_LENGTH = 64
ATTEMPTS_BEFORE_V1_3 = 3  # the token's attempts in v1.2 and the previews (not configurable there)
ATTEMPTS_MIN, ATTEMPTS_MAX, ATTEMPTS_DEFAULT = 1, 3, 1  # v1.3's numberOfClientAttemptsAllowed
_MAX_FORM_PARTS = 16
# Form fields of the v1.2 with-verify create that are not text, and how to read them.
_FORM_BOOLEANS = ("deviceCorrelationIdSetInClient", "enableSessionImage", "returnVerifyImageHash",
                  "sendResultsToClient", "userCorrelationIdSetInClient")
_FORM_NUMBERS = ("authTokenTimeToLiveInSeconds", "verifyConfidenceThreshold", "numberOfClientAttemptsAllowed")


@dataclass(frozen=True)
class SessionSpec:
    mode: str
    device_correlation_id: str | None
    device_id_from_client: bool
    enable_session_image: bool
    send_results_to_client: bool
    model_version: str
    token_ttl: int
    return_verify_image_hash: bool = False
    verify_threshold: float | None = None
    verify_image: bytes | None = None
    attempts_allowed: int = ATTEMPTS_BEFORE_V1_3
    v1_3: bool = False  # created under v1.3-preview.1 (its fields, client information, abuse monitoring)
    user_correlation_id: str | None = None
    user_id_from_client: bool = False
    expected_client_ip: str | None = None


def liveness_spec(fields: Fields, preview: bool, v1_3: bool = False) -> SessionSpec:
    device_from_client = fields.boolean("deviceCorrelationIdSetInClient", False)
    device_id = fields.text("deviceCorrelationId", MAX_DEVICE_ID_LENGTH)
    if device_from_client and device_id is not None:
        raise BadArgument("deviceCorrelationId must be null when deviceCorrelationIdSetInClient is true.")
    if not device_from_client and device_id is None:
        raise BadArgument("deviceCorrelationId is required unless deviceCorrelationIdSetInClient is true.")
    extra = _v1_3_fields(fields) if v1_3 else {}
    if fields.get("livenessOperationMode") is None:
        raise BadArgument("livenessOperationMode is required.")
    model_field, models = ("livenessSingleModalModel", PREVIEW_MODELS) if preview else ("livenessModelVersion", GA_MODELS)
    return SessionSpec(
        mode=fields.choice("livenessOperationMode", MODES[0], MODES),
        device_correlation_id=device_id,
        device_id_from_client=device_from_client,
        enable_session_image=fields.boolean("enableSessionImage", False),
        send_results_to_client=fields.boolean("sendResultsToClient", False),
        model_version=fields.choice(model_field, models[-1], models),
        token_ttl=fields.integer("authTokenTimeToLiveInSeconds", TOKEN_TTL_DEFAULT, TOKEN_TTL_MIN, TOKEN_TTL_MAX),
        **extra,
    )


def _v1_3_fields(fields: Fields) -> dict:
    """userCorrelationId is optional (the spec's own example omits it), but never together
    with userCorrelationIdSetInClient; the spec types numberOfClientAttemptsAllowed `object`,
    an integer 1..3 is what its description and the examples use."""
    user_from_client = fields.boolean("userCorrelationIdSetInClient", False)
    user_id = fields.text("userCorrelationId", MAX_DEVICE_ID_LENGTH)
    if user_from_client and user_id is not None:
        raise BadArgument("userCorrelationId must be null when userCorrelationIdSetInClient is true.")
    expected_ip = fields.text("expectedClientIpAddress", MAX_IP_TEXT_LENGTH)
    if expected_ip is not None and parse_network(expected_ip) is None:
        raise BadArgument("expectedClientIpAddress must be an IP address or a CIDR block (e.g. 203.0.113.0/24).")
    return {"v1_3": True, "user_correlation_id": user_id, "user_id_from_client": user_from_client,
            "expected_client_ip": expected_ip,
            "attempts_allowed": fields.integer("numberOfClientAttemptsAllowed", ATTEMPTS_DEFAULT, ATTEMPTS_MIN,
                                               ATTEMPTS_MAX)}


def with_verify_spec(fields: Fields, verify_image: bytes, preview: bool, v1_3: bool = False) -> SessionSpec:
    base = liveness_spec(fields, preview, v1_3)
    return SessionSpec(**{**base.__dict__, "return_verify_image_hash": fields.boolean("returnVerifyImageHash", False),
                          "verify_threshold": fields.number("verifyConfidenceThreshold", 0.0, 1.0),
                          "verify_image": verify_image})


def parse_liveness_create(headers: Mapping[str, str], body: bytes, preview: bool, v1_3: bool = False) -> SessionSpec:
    return liveness_spec(json_fields(headers, body), preview, v1_3)


def parse_with_verify_create(headers: Mapping[str, str], body: bytes, preview: bool,
                             v1_3: bool = False) -> SessionSpec:
    parts = fields_by_name(parse_form(headers, body, _MAX_FORM_PARTS))
    image_part = parts.pop("verifyimage", None)
    if image_part is None or not image_part.data:
        raise BadArgument("verifyImage is required (a file part with a filename).")
    fields = _preview_parameters(parts) if preview else _form_fields(parts)
    return with_verify_spec(fields, image_part.data, preview, v1_3)


def _preview_parameters(parts: dict[str, Part]) -> Fields:
    """The preview SDK's "Parameters" part: the create body as JSON text."""
    part = parts.get("parameters")
    if part is None:
        raise BadArgument("Parameters is required.")
    return parse_json_object(part.data)


def _form_fields(parts: dict[str, Part]) -> Fields:
    values: dict[str, object] = {}
    for part in parts.values():
        text = part.text().strip()
        values[part.name] = _form_value(part.name, text)
    return Fields(values)


def _form_value(name: str, text: str) -> object:
    canonical = name.lower()
    if canonical in (field.lower() for field in _FORM_BOOLEANS):
        if text.lower() not in ("true", "false"):
            raise BadArgument(f"{name} must be true or false.")
        return text.lower() == "true"
    if canonical in (field.lower() for field in _FORM_NUMBERS):
        try:
            return json.loads(text)
        except ValueError as err:
            raise BadArgument(f"{name} must be a number.") from err
    return text


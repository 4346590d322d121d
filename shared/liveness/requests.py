"""Create-session bodies of every version -> SessionSpec, validated as Azure does (400
BadArgument naming the field).

    v1.2 liveness                 JSON CreateLivenessSessionContent
    v1.2 with verify              multipart form: one part per field + verifyImage (file)
    preview liveness              JSON (adds sendResultsToClient, livenessSingleModalModel)
    preview with verify           multipart: Parameters (JSON text) + VerifyImage (file)
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from shared.api.body import json_fields, parse_json_object
from shared.api.multipart import Part, fields_by_name, parse_form
from shared.api.params import Fields
from shared.errors import BadArgument
from shared.liveness.kinds import GA_MODELS, MODES, PREVIEW_MODELS

TOKEN_TTL_MIN, TOKEN_TTL_MAX, TOKEN_TTL_DEFAULT = 60, 86400, 600
MAX_DEVICE_ID_LENGTH = 64
_MAX_FORM_PARTS = 16
# Form fields of the v1.2 with-verify create that are not text, and how to read them.
_FORM_BOOLEANS = ("deviceCorrelationIdSetInClient", "enableSessionImage", "returnVerifyImageHash",
                  "sendResultsToClient")
_FORM_NUMBERS = ("authTokenTimeToLiveInSeconds", "verifyConfidenceThreshold")


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


def liveness_spec(fields: Fields, preview: bool) -> SessionSpec:
    device_from_client = fields.boolean("deviceCorrelationIdSetInClient", False)
    device_id = fields.text("deviceCorrelationId", MAX_DEVICE_ID_LENGTH)
    if device_from_client and device_id is not None:
        raise BadArgument("deviceCorrelationId must be null when deviceCorrelationIdSetInClient is true.")
    if not device_from_client and device_id is None:
        raise BadArgument("deviceCorrelationId is required unless deviceCorrelationIdSetInClient is true.")
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
    )


def with_verify_spec(fields: Fields, verify_image: bytes, preview: bool) -> SessionSpec:
    base = liveness_spec(fields, preview)
    return SessionSpec(**{**base.__dict__, "return_verify_image_hash": fields.boolean("returnVerifyImageHash", False),
                          "verify_threshold": fields.number("verifyConfidenceThreshold", 0.0, 1.0),
                          "verify_image": verify_image})


def parse_liveness_create(headers: Mapping[str, str], body: bytes, preview: bool) -> SessionSpec:
    return liveness_spec(json_fields(headers, body), preview)


def parse_with_verify_create(headers: Mapping[str, str], body: bytes, preview: bool) -> SessionSpec:
    parts = fields_by_name(parse_form(headers, body, _MAX_FORM_PARTS))
    image_part = parts.pop("verifyimage", None)
    if image_part is None or not image_part.data:
        raise BadArgument("verifyImage is required (a file part with a filename).")
    fields = _preview_parameters(parts) if preview else _form_fields(parts)
    return with_verify_spec(fields, image_part.data, preview)


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


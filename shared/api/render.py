"""HTTP responses in Azure's shapes."""
from __future__ import annotations

import json
from collections.abc import Mapping

import azure.functions as func

from shared.errors import FaceApiError

JSON_TYPE = "application/json; charset=utf-8"


def json_response(data: object, status: int = 200,
                  headers: Mapping[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(data, separators=(",", ":"), default=_scalar), status_code=status,
                             headers=dict(headers or {}), mimetype="application/json",
                             charset="utf-8")


def empty_response(status: int = 200, headers: Mapping[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(b"", status_code=status, headers=dict(headers or {}))


def error_response(error: FaceApiError, headers: Mapping[str, str] | None = None) -> func.HttpResponse:
    return json_response(error.envelope(), error.status,
                         {**(headers or {}), **error.headers(), "x-ms-error-code": error.code})


def _scalar(value: object) -> object:
    """numpy scalars (e.g. float32 confidences) as plain JSON numbers."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")

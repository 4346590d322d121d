"""Errors that the API answers in Azure Face's envelope.

Raised anywhere (engine, storage, API layer); the HTTP layer renders them as
``{"error": {"code", "message"}}`` with the status and an ``x-ms-error-code`` header.
Anything else that escapes is a bug and becomes a logged 500.
"""
from __future__ import annotations

import math


class FaceApiError(Exception):
    status: int = 400
    code: str = "BadArgument"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def envelope(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}

    def headers(self) -> dict[str, str]:
        """Response headers beyond the envelope's own (Retry-After on 429 and 503)."""
        return {}


class BadArgument(FaceApiError):
    status, code = 400, "BadArgument"


class InvalidImage(FaceApiError):
    status, code = 400, "InvalidImage"


class InvalidImageSize(FaceApiError):
    status, code = 400, "InvalidImageSize"


class InvalidURL(FaceApiError):
    status, code = 400, "InvalidURL"


class Unauthorized(FaceApiError):
    status, code = 401, "401"


class Forbidden(FaceApiError):
    status, code = 403, "PermissionDenied"


class QuotaExceeded(FaceApiError):
    status, code = 403, "QuotaExceeded"


class NotFound(FaceApiError):
    """404 with a resource-specific code such as FaceNotFound or PersonGroupNotFound."""

    status, code = 404, "NotFound"


class Conflict(FaceApiError):
    status, code = 409, "ConcurrentOperationConflict"


class UnsupportedMediaType(FaceApiError):
    status, code = 415, "BadArgument"


class PayloadTooLarge(FaceApiError):
    status, code = 413, "BadArgument"


class _RetryLater(FaceApiError):
    """An error the client should retry after ``retry_after`` seconds (Retry-After header,
    which the SDKs' retry policies honour)."""

    def __init__(self, message: str, retry_after: float, *, code: str | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after

    def __reduce__(self):
        """Picklable (Exception's default passes only the message): it crosses process pools."""
        return _retry_later, (type(self), self.message, self.retry_after, self.code)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, math.ceil(self.retry_after)))}


def _retry_later(kind: type, message: str, retry_after: float, code: str) -> "_RetryLater":
    return kind(message, retry_after, code=code)


class TooManyRequests(_RetryLater):
    """Rate limit exceeded (the gateway's envelope spells the code "429")."""

    status, code = 429, "429"


class ServiceUnavailable(_RetryLater):
    """A dependency (storage) is failing or too slow; nothing was half-written."""

    status, code = 503, "ServiceUnavailable"

"""Operations on the wire: the 202 answer with its Operation-Location, and each version's
``GET /operations/{operationId}`` shape (face-api.md §10; face-v1.0.json OperationStatus)."""
from __future__ import annotations

import azure.functions as func

from shared.api import render
from shared.api.handler import Call
from shared.operations.status import IN_PROGRESS, spelled
from shared.operations.store import Operation

POLL_AFTER_SECONDS = 1


def absolute_url(call: Call, path: str) -> str:
    """Absolute URL of ``path`` under the same endpoint and api-version as this request."""
    url = call.req.url
    root = url[: url.find("/face/")] if "/face/" in url else url.rstrip("/")
    return f"{root}/face/{call.version.name}/{path}"


def location(call: Call, operation: Operation) -> str:
    return absolute_url(call, f"operations/{operation.operation_id}")


def accepted(call: Call, operation: Operation, body: dict | None = None, location_header: bool = True) -> \
        func.HttpResponse:
    """202 with ``Operation-Location``, plus ``Location`` of the resource the operation made or
    changed (the JS client's poller reads it after success), unless it deleted that resource."""
    headers = {"Operation-Location": location(call, operation)}
    if operation.resource and location_header:
        headers["Location"] = absolute_url(call, operation.resource)
    if operation.status in IN_PROGRESS:
        headers["Retry-After"] = str(POLL_AFTER_SECONDS)
    if body is None:
        return render.empty_response(202, headers)
    return render.json_response(body, 202, headers)


def status_response(call: Call, operation: Operation) -> func.HttpResponse:
    headers = {"Retry-After": str(POLL_AFTER_SECONDS)} if operation.status in IN_PROGRESS else {}
    return render.json_response(as_json(operation, call.version.name), headers=headers)


def as_json(operation: Operation, version_name: str) -> dict:
    """v1.1+ ``OperationResult``; v1.0 ``OperationStatus`` (no id or finishedTime, lower-case
    status, and the changed resource as ``resourceLocation``)."""
    if version_name == "v1.0":
        body = {"status": spelled(operation.status, version_name), "createdTime": operation.created,
                "lastActionTime": operation.last_action}
        if operation.resource:
            body["resourceLocation"] = f"/{operation.resource}"
    else:
        body = {"operationId": operation.operation_id, "status": operation.status,
                "createdTime": operation.created, "lastActionTime": operation.last_action}
        if operation.finished:
            body["finishedTime"] = operation.finished
    if operation.message:
        body["message"] = operation.message
    return body

"""The wrapper every Face operation runs in.

    @bp.route(route=face_route("detect"), methods=["POST"])
    @face_operation(Role.RECOGNIZER)
    def detect(call: Call) -> object: ...

The wrapper parses the api version (unknown -> 404), authorizes the caller for the
operation's declared role (401/403), or with the operation's own authorizer instead (the
liveness client route's session token), applies the caller's rate limit (429, see
throttle.py), runs the operation, and renders its result: an
``HttpResponse`` passes through, ``None`` becomes an empty 200, anything else is 200 JSON.
FaceApiError becomes Azure's error envelope; a storage outage (no answer within the bounded
storage timeouts, a lost connection, a storage 5xx) becomes 503 with Retry-After; any other
exception is logged with a request id and answered with a 500 envelope carrying that id.
Each call is one telemetry span (shared.telemetry: operation, api version, role, status,
request id; no-op when off).
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import azure.functions as func

from shared import telemetry
from shared.api import render, throttle, versions
from shared.api.auth import Authorizer, Caller, Role, role_authorizer
from shared.api.body import json_fields
from shared.api.params import Fields, Query
from shared.errors import FaceApiError
from shared.storage.outages import as_unavailable

logger = logging.getLogger(__name__)
REQUEST_ID_HEADER = "apim-request-id"
API_VERSION_PARAM = "apiVersion"


def face_route(path: str) -> str:
    """The route template of a Face operation, e.g. face_route("detect")."""
    return f"face/{{{API_VERSION_PARAM}}}/{path}"


@dataclass
class Call:
    """One authorized request to a Face operation."""

    req: func.HttpRequest
    version: versions.ApiVersion
    caller: Caller
    request_id: str
    query: Query = field(init=False)

    def __post_init__(self) -> None:
        self.query = Query(self.req.params)

    def route(self, name: str) -> str:
        return self.req.route_params.get(name, "")

    def json(self) -> Fields:
        return json_fields(self.req.headers, self.req.get_body())


Operation = Callable[[Call], object]


def face_operation(role: Role | None = None, api_versions: Collection[str] | None = None,
                   authorizer: Authorizer | None = None, unversioned: bool = False) -> Callable[[Operation], Callable]:
    """Declare an operation's required role, or the authorizer that admits its callers
    instead (exactly one of the two), and, if not all, the versions that have it.
    ``unversioned``: the service's own routes outside /face/{apiVersion}/ (the inventory),
    which run with the GA version's conventions."""
    if (role is None) == (authorizer is None):
        raise ValueError("declare either a role or an authorizer")
    if unversioned:
        api_versions = (versions.V1_2.name,)

    def decorate(operation: Operation) -> Callable[[func.HttpRequest], func.HttpResponse]:
        # A fresh function with the exact signature the Functions worker binds by name
        # (functools.wraps would expose the operation's own signature via __wrapped__).
        def handler(req: func.HttpRequest) -> func.HttpResponse:
            return _run(operation, authorizer or role_authorizer(role), api_versions, req, unversioned)

        handler.__name__ = handler.__qualname__ = operation.__name__
        handler.__doc__ = operation.__doc__
        handler.__module__ = operation.__module__
        handler.face_role = role
        handler.face_authorizer = authorizer
        handler.face_api_versions = api_versions
        return handler

    return decorate


def required_role(user_function: Callable) -> Role | None:
    """The role a registered function declared with @face_operation (None if it did not)."""
    return getattr(user_function, "face_role", None)


def own_authorizer(user_function: Callable) -> Authorizer | None:
    """The authorizer a registered function declared instead of a role (None if it did not)."""
    return getattr(user_function, "face_authorizer", None)


def _run(operation: Operation, authorizer: Authorizer, api_versions: Collection[str] | None,
         req: func.HttpRequest, unversioned: bool = False) -> func.HttpResponse:
    request_id = str(uuid.uuid4())
    with telemetry.operation(operation.__name__, request_id) as span:
        response = _respond(operation, authorizer, api_versions, req, request_id, span, unversioned)
        span.set(telemetry.STATUS, response.status_code)
        return response


def _respond(operation: Operation, authorizer: Authorizer, api_versions: Collection[str] | None,
             req: func.HttpRequest, request_id: str, span: telemetry.OperationSpan,
             unversioned: bool = False) -> func.HttpResponse:
    headers = {REQUEST_ID_HEADER: request_id}
    try:
        named = versions.V1_2.name if unversioned else req.route_params.get(API_VERSION_PARAM, "")
        version = versions.parse(named, api_versions)
        span.set(telemetry.API_VERSION, version.name)
        caller = authorizer(req.headers)
        span.set(telemetry.ROLE, caller.role.value)
        throttle.admit(caller)
        result = operation(Call(req, version, caller, request_id))
    except FaceApiError as err:
        return render.error_response(err, headers)
    except Exception as err:
        unavailable = as_unavailable(err)
        if unavailable is not None:
            logger.warning("%s: storage unavailable (request %s): %r", operation.__name__, request_id, err)
            return render.error_response(unavailable, headers)
        # A bug, not the caller's fault: log it and keep the details server-side.
        logger.exception("%s failed (request %s)", operation.__name__, request_id)
        return render.error_response(_internal_error(request_id), headers)
    response = _as_response(result)
    response.headers[REQUEST_ID_HEADER] = request_id
    return response


def _internal_error(request_id: str) -> FaceApiError:
    return FaceApiError(f"An internal error occurred. Request id: {request_id}.",
                        code="InternalServerError", status=500)


def _as_response(result: object) -> func.HttpResponse:
    if isinstance(result, func.HttpResponse):
        return result
    if result is None:
        return render.empty_response()
    return render.json_response(result)

"""HTTP routes of the four container kinds, written once and registered per kind.

Every route of face-api.md §6-9 for one kind goes onto the kind's blueprint; which ones a kind
gets follows from ``kind.has_persons`` / ``kind.trained`` and from the few FaceList quirks
(no paging, faces listed inside Get, no single-face Get/Patch). Function names carry the kind
so the four blueprints can live in one Functions app.
"""
from __future__ import annotations

from collections.abc import Callable

import azure.functions as func

from shared.api import render
from shared.api.auth import Role
from shared.api.handler import Call, face_operation, face_route
from shared.api.image_input import request_image
from shared.api.params import parse_uuid
from shared.errors import FaceApiError
from shared.galleries import containers, faces, persons, repository, training, validation
from shared.galleries.kinds import FACE_LIST, ContainerKind
from shared.galleries.training_status import render as render_training
from shared.operations import http as operations

ALL_ROWS = 1_000_000_000  # FaceList listing has no paging


def container_blueprint(kind: ContainerKind) -> func.Blueprint:
    bp = func.Blueprint()
    _container_routes(bp, kind)
    if kind.has_persons:
        _person_routes(bp, kind)
    else:
        _list_face_routes(bp, kind)
    if kind.trained:
        _training_routes(bp, kind)
    return bp


def _add(bp: func.Blueprint, kind: ContainerKind, path: str, method: str, name: str,
         operation: Callable[[Call], object]) -> None:
    operation.__name__ = operation.__qualname__ = f"{kind.key}_{name}"
    bp.route(route=face_route(path), methods=[method])(face_operation(Role.ADMIN)(operation))


def _container_id(call: Call, kind: ContainerKind) -> str:
    return validation.container_id(call.route("containerId"), kind.id_field)


# ---------------------------------------------------------------- request parts (galleries and directory)

def person_id_of(call: Call) -> str:
    try:
        return parse_uuid("personId", call.route("personId"))
    except FaceApiError:
        raise repository.person_not_found(call.route("personId")) from None


def face_id_of(call: Call) -> str:
    try:
        return parse_uuid("persistedFaceId", call.route("persistedFaceId"))
    except FaceApiError:
        raise repository.face_not_found(call.route("persistedFaceId")) from None


def body_of(call: Call) -> dict:
    fields = call.json()
    return {name: fields.get(name) for name in ("name", "userData", "recognitionModel")}


def paging_of(call: Call) -> tuple[str, int]:
    return validation.paging(call.query.text("start"), call.query.text("top"))


def face_input_of(call: Call) -> faces.FaceInput:
    params = {name: call.query.text(name) for name in ("targetFace", "detectionModel", "userData")}
    options = faces.FaceOptions.parse(params)  # checked before any download
    return options.with_image(request_image(call.req.headers, call.req.get_body()))


def _container_routes(bp: func.Blueprint, kind: ContainerKind) -> None:
    one = f"{kind.route}/{{containerId}}"

    def create(call: Call) -> None:
        containers.create(kind, _container_id(call, kind), body_of(call))

    def get(call: Call) -> dict:
        container = repository.get_container(kind, _container_id(call, kind))
        body = container.as_json(call.query.boolean("returnRecognitionModel", False))
        if kind is FACE_LIST:
            body["persistedFaces"] = [f.as_json() for f in repository.list_faces(container.incarnation, "", ALL_ROWS)]
        return body

    def update(call: Call) -> None:
        containers.update(kind, _container_id(call, kind), body_of(call))

    def delete(call: Call) -> None:
        containers.delete(kind, _container_id(call, kind))

    def listing(call: Call) -> list:
        start, top = ("", ALL_ROWS) if kind is FACE_LIST else paging_of(call)
        return containers.listing(kind, start, top, call.query.boolean("returnRecognitionModel", False))

    _add(bp, kind, one, "PUT", "create", create)
    _add(bp, kind, one, "GET", "get", get)
    _add(bp, kind, one, "PATCH", "update", update)
    _add(bp, kind, one, "DELETE", "delete", delete)
    _add(bp, kind, kind.route, "GET", "list", listing)


def _list_face_routes(bp: func.Blueprint, kind: ContainerKind) -> None:
    many = f"{kind.route}/{{containerId}}/persistedfaces"
    one = f"{many}/{{persistedFaceId}}"

    def add(call: Call) -> dict:
        return {"persistedFaceId": faces.add_to_list(kind, _container_id(call, kind), face_input_of(call))}

    def delete(call: Call) -> None:
        faces.delete_from_list(kind, _container_id(call, kind), face_id_of(call))

    _add(bp, kind, many, "POST", "add_face", add)
    _add(bp, kind, one, "DELETE", "delete_face", delete)
    if kind is FACE_LIST:
        return

    def listing(call: Call) -> list:
        start, top = paging_of(call)
        return faces.list_faces(kind, _container_id(call, kind), start, top)

    def get(call: Call) -> dict:
        return faces.get(kind, _container_id(call, kind), face_id_of(call)).as_json()

    def update(call: Call) -> None:
        faces.update(kind, _container_id(call, kind), face_id_of(call), {"userData": call.json().get("userData")})

    _add(bp, kind, many, "GET", "list_faces", listing)
    _add(bp, kind, one, "GET", "get_face", get)
    _add(bp, kind, one, "PATCH", "update_face", update)


def _person_routes(bp: func.Blueprint, kind: ContainerKind) -> None:
    many = f"{kind.route}/{{containerId}}/persons"
    one = f"{many}/{{personId}}"
    face_many = f"{one}/persistedfaces"
    face_one = f"{face_many}/{{persistedFaceId}}"

    def create(call: Call) -> dict:
        return {"personId": persons.create(kind, _container_id(call, kind), body_of(call))}

    def listing(call: Call) -> list:
        start, top = paging_of(call)
        return persons.listing(kind, _container_id(call, kind), start, top)

    def get(call: Call) -> dict:
        return persons.get(kind, _container_id(call, kind), person_id_of(call)).as_json()

    def update(call: Call) -> None:
        persons.update(kind, _container_id(call, kind), person_id_of(call), body_of(call))

    def delete(call: Call) -> None:
        persons.delete(kind, _container_id(call, kind), person_id_of(call))

    def add_face(call: Call) -> dict:
        face_id = faces.add_to_person(kind, _container_id(call, kind), person_id_of(call), face_input_of(call))
        return {"persistedFaceId": face_id}

    def get_face(call: Call) -> dict:
        return faces.get(kind, _container_id(call, kind), face_id_of(call), person_id_of(call)).as_json()

    def update_face(call: Call) -> None:
        faces.update(kind, _container_id(call, kind), face_id_of(call), {"userData": call.json().get("userData")},
                     person_id_of(call))

    def delete_face(call: Call) -> None:
        faces.delete_from_person(kind, _container_id(call, kind), person_id_of(call), face_id_of(call))

    _add(bp, kind, many, "POST", "create_person", create)
    _add(bp, kind, many, "GET", "list_persons", listing)
    _add(bp, kind, one, "GET", "get_person", get)
    _add(bp, kind, one, "PATCH", "update_person", update)
    _add(bp, kind, one, "DELETE", "delete_person", delete)
    _add(bp, kind, face_many, "POST", "add_person_face", add_face)
    _add(bp, kind, face_one, "GET", "get_person_face", get_face)
    _add(bp, kind, face_one, "PATCH", "update_person_face", update_face)
    _add(bp, kind, face_one, "DELETE", "delete_person_face", delete_face)


def _training_routes(bp: func.Blueprint, kind: ContainerKind) -> None:
    base = f"{kind.route}/{{containerId}}"

    def train(call: Call) -> func.HttpResponse:
        container_id = _container_id(call, kind)
        operation = training.request(kind, container_id)
        headers = {"Retry-After": str(operations.POLL_AFTER_SECONDS)}
        if call.version.name != "v1.0":
            # The SDKs' pollers follow this header until `status` settles: to the operation where
            # the version has GET /operations (the previews), else to the training status (GA).
            status_path = f"{kind.route}/{container_id}/training"
            headers["operation-Location"] = (operations.location(call, operation) if call.version.operations_route
                                             else operations.absolute_url(call, status_path))
        return render.empty_response(202, headers)

    def status(call: Call) -> func.HttpResponse:
        state = repository.get_container(kind, _container_id(call, kind)).training_state()
        headers = {"Retry-After": str(operations.POLL_AFTER_SECONDS)} if state.in_progress else {}
        return render.json_response(render_training(state, call.version.name), headers=headers)

    _add(bp, kind, f"{base}/train", "POST", "train", train)
    _add(bp, kind, f"{base}/training", "GET", "training_status", status)

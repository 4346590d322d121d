"""PersonDirectory and dynamic person groups (face-api.md §10), and the compaction worker.

Writes answer 202 with an Operation-Location (shared/operations); the work itself is done
before the answer, so the operation has usually succeeded by the first poll.
"""
import json

import azure.functions as func

from shared.api import versions
from shared.api.auth import Role
from shared.api.handler import Call, face_operation, face_route
from shared.directory import compaction, faces, groups, journal, persons
from shared.galleries import validation
from shared.galleries.routes import body_of, face_id_of, face_input_of, paging_of, person_id_of
from shared.operations.http import accepted
from shared.storage.naming import queue_name

bp = func.Blueprint()
VERSIONS = versions.names("directory_routes")
PERSON = "persons/{personId}"
FACES = f"{PERSON}/recognitionModels/{{recognitionModel}}/persistedfaces"
FACE = f"{FACES}/{{persistedFaceId}}"
GROUP = "dynamicpersongroups/{dynamicPersonGroupId}"


def _route(path: str, method: str):
    def register(operation):
        return bp.route(route=face_route(path), methods=[method])(
            face_operation(Role.ADMIN, api_versions=VERSIONS)(operation))

    return register


def _model(call: Call) -> str:
    return validation.recognition_model(call.route("recognitionModel"))


def _group_id(call: Call) -> str:
    return validation.container_id(call.route("dynamicPersonGroupId"), "dynamicPersonGroupId")


def _person_lists(call: Call) -> tuple[dict, list[str] | None, list[str] | None]:
    """A group body: name/userData, and addPersonIds/removePersonIds (None when absent)."""
    fields = call.json()

    def ids(name: str) -> list[str] | None:
        return fields.uuid_list(name, 0, groups.MAX_PERSON_IDS) if fields.has(name) else None

    return {"name": fields.get("name"), "userData": fields.get("userData")}, ids("addPersonIds"), \
        ids("removePersonIds")


# ---------------------------------------------------------------- persons

@_route("persons", "POST")
def directory_create_person(call: Call) -> func.HttpResponse:
    person_id, operation = persons.create(body_of(call))
    return accepted(call, operation, {"personId": person_id})


@_route("persons", "GET")
def directory_list_persons(call: Call) -> list:
    return persons.listing(*paging_of(call))


@_route(PERSON, "GET")
def directory_get_person(call: Call) -> dict:
    return persons.get(person_id_of(call)).as_json()


@_route(PERSON, "PATCH")
def directory_update_person(call: Call) -> None:
    persons.update(person_id_of(call), body_of(call))


@_route(PERSON, "DELETE")
def directory_delete_person(call: Call) -> func.HttpResponse:
    return accepted(call, persons.delete(person_id_of(call)), location_header=False)


@_route(f"{PERSON}/dynamicPersonGroupReferences", "GET")
def directory_person_group_references(call: Call) -> dict:
    return {"dynamicPersonGroupIds": groups.references(person_id_of(call), *paging_of(call))}


# ---------------------------------------------------------------- faces

@_route(FACES, "POST")
def directory_add_person_face(call: Call) -> func.HttpResponse:
    person_id, model = person_id_of(call), _model(call)
    face_id, operation = faces.add(person_id, model, face_input_of(call))
    return accepted(call, operation, {"persistedFaceId": face_id})


@_route(FACES, "GET")
def directory_list_person_faces(call: Call) -> dict:
    return faces.listing(person_id_of(call), _model(call))


@_route(FACE, "GET")
def directory_get_person_face(call: Call) -> dict:
    return faces.get(person_id_of(call), _model(call), face_id_of(call)).as_json()


@_route(FACE, "PATCH")
def directory_update_person_face(call: Call) -> None:
    user_data = validation.user_data(call.json().get("userData"), validation.FACE_USER_DATA_MAX)
    faces.update(person_id_of(call), _model(call), face_id_of(call), user_data)


@_route(FACE, "DELETE")
def directory_delete_person_face(call: Call) -> func.HttpResponse:
    return accepted(call, faces.delete(person_id_of(call), _model(call), face_id_of(call)), location_header=False)


# ---------------------------------------------------------------- dynamic person groups

@_route(GROUP, "PUT")
def directory_create_group(call: Call) -> func.HttpResponse | None:
    body, add_ids, _ = _person_lists(call)
    operation = groups.create(_group_id(call), body, add_ids)
    return None if operation is None else accepted(call, operation)


@_route(GROUP, "PATCH")
def directory_update_group(call: Call) -> func.HttpResponse | None:
    body, add_ids, remove_ids = _person_lists(call)
    operation = groups.update(_group_id(call), body, add_ids, remove_ids)
    return None if operation is None else accepted(call, operation)


@_route(GROUP, "GET")
def directory_get_group(call: Call) -> dict:
    return groups.get(_group_id(call)).as_json()


@_route(GROUP, "DELETE")
def directory_delete_group(call: Call) -> func.HttpResponse:
    return accepted(call, groups.delete(_group_id(call)), location_header=False)


@_route("dynamicpersongroups", "GET")
def directory_list_groups(call: Call) -> list:
    return groups.listing(*paging_of(call))


@_route(f"{GROUP}/persons", "GET")
def directory_list_group_persons(call: Call) -> dict:
    return {"personIds": groups.members(_group_id(call), *paging_of(call))}


# ---------------------------------------------------------------- compaction worker

@bp.queue_trigger(arg_name="msg", queue_name=queue_name(journal.COMPACTION_QUEUE), connection="AzureWebJobsStorage")
def compact_directory(msg: func.QueueMessage) -> None:
    compaction.run(json.loads(msg.get_body().decode("utf-8")))

"""Directory persons: create (also in bulk with their first faces), read, update, list, delete.

Deleting a person commits ``removePerson`` to every recognition model's journal first, so from
then on no instance returns any face of theirs, whatever the order in which their entries
arrive (a face add racing the delete included). Then the person row goes (as last read, so
only one delete releases the count), then the person's face packs of every model, then the
person's dynamic group memberships. Each step is idempotent: the sweep repeats them for a
delete whose process died (maintenance.py).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from shared.directory import counts, groups, repository, searchable
from shared.directory.faces import NewFace
from shared.directory.journal import ADD, REMOVE_PERSON, Entry
from shared.directory.records import DirectoryPerson, FacePack, PackedFace
from shared.errors import NotFound
from shared.galleries import quotas, validation
from shared.galleries.records import patched
from shared.operations import store as operations
from shared.operations.status import SUCCEEDED
from shared.operations.store import Operation

CREATE_KIND, DELETE_KIND = "createPerson", "deletePerson"
COUNTER = f"{quotas.DIRECTORY}-persons"


@dataclass
class NewPerson:
    name: str
    user_data: str | None = None
    faces: dict[str, list[NewFace]] = field(default_factory=dict)  # recognition model -> embedded faces


def resource(person_id: str) -> str:
    return f"persons/{person_id}"


def create(body: dict) -> tuple[str, Operation]:
    person = NewPerson(validation.name(body.get("name"), required=True), validation.user_data(body.get("userData")))
    person_id = enrol([person])[0]
    return person_id, operations.start(CREATE_KIND, resource(person_id), status=SUCCEEDED)


def enrol(people: list[NewPerson]) -> list[str]:
    """Create persons with their first faces (none for the API's create): count them against
    the directory's limit, write the person rows and their face packs, then the journal entries
    that make the faces searchable. Returns the new person ids."""
    records = [DirectoryPerson(str(uuid.uuid4()), person.name, person.user_data) for person in people]
    packs = [FacePack(record.person_id, model, [PackedFace(face.face_id, face.user_data, face.template)
                                                for face in map(NewFace.with_id, faces)])
             for record, person in zip(records, people) for model, faces in person.faces.items() if faces]
    counts.add(COUNTER, len(records), quotas.directory_limit("persons"), "persons")
    try:
        repository.insert_people(records, packs)
    except Exception:
        counts.add(COUNTER, -len(records), None, "persons")
        raise
    for model in {pack.model for pack in packs}:
        searchable.commit(model, [Entry(ADD, pack.person_id, face.face_id, face.template)
                                  for pack in packs if pack.model == model for face in pack.faces])
    return [record.person_id for record in records]


def get(person_id: str) -> DirectoryPerson:
    return repository.get_person(person_id)


def update(person_id: str, body: dict) -> None:
    name = validation.name(body.get("name"), required=False)
    user_data = validation.user_data(body.get("userData"))
    repository.update_person(person_id, lambda person: patched(person, name, user_data))


def listing(start: str, top: int) -> list[dict]:
    return [person.as_json() for person in repository.list_persons(start, top)]


def delete(person_id: str) -> Operation:
    repository.get_person(person_id)
    operation = operations.start(DELETE_KIND, resource(person_id), {"personId": person_id})
    finish_delete(person_id)
    return operations.advance(operation.operation_id, SUCCEEDED)


def finish_delete(person_id: str) -> None:
    searchable.commit_everywhere([Entry(REMOVE_PERSON, person_id)])
    try:
        repository.delete_person(person_id)
    except NotFound:
        pass  # a racing (or earlier, interrupted) delete removed the row and released the count
    else:
        counts.add(COUNTER, -1, None, "persons")
    repository.delete_packs(person_id)
    groups.remove_person_everywhere(person_id)

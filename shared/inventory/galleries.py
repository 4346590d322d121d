"""Inventory source: face lists, large face lists, person groups and large person groups.

Per container: persons from the container row's count (kept in one transaction with the
person rows' intents by the write path, see shared.galleries.persons), faces and templates
from the container's face rows themselves (keys only; one template per persisted face).
Holdings and erase of a personId look it up in every person container (a point read per
container, in parallel) and erase through ``shared.galleries.persons.delete``.
"""
from __future__ import annotations

from shared.errors import NotFound
from shared.galleries import persons, repository
from shared.galleries.kinds import KINDS, ContainerKind
from shared.galleries.records import Container
from shared.inventory import scan
from shared.storage.templates import RECOGNITION_MODEL

def _containers() -> list[Container]:
    found = scan.parallel([lambda kind=kind: repository.list_containers(kind, "", scan.ALL) for kind in KINDS.values()])
    return [container for listed in found for container in listed]


def _summary_row(container: Container, faces: int) -> dict:
    state = container.training_state()
    return {"kind": container.kind.label, "containerId": container.container_id, "name": container.name,
            "recognitionModel": container.recognition_model, "createdDateTime": container.created,
            "persons": container.person_count if container.kind.has_persons else None,
            "faces": faces, "templates": faces, "trainingStatus": state.status if container.kind.trained else None,
            "lastSuccessfulTrainingDateTime": state.last_success}


class GalleriesSource:
    name = "galleries"
    title = "Face lists and person groups"

    def summary(self) -> dict:
        containers = _containers()
        faces = scan.each_partition(repository.faces(), [c.incarnation for c in containers], ["RowKey"], scan.rows)
        listed = [_summary_row(c, faces[c.incarnation]) for c in containers]
        by_kind: dict[str, dict] = {kind.label: {"containers": 0, "persons": 0, "faces": 0, "templates": 0}
                                    for kind in KINDS.values()}
        by_model: dict[str, dict] = {}
        for row in listed:
            for totals in (by_kind[row["kind"]],
                           by_model.setdefault(row["recognitionModel"], {"containers": 0, "persons": 0, "faces": 0,
                                                                         "templates": 0})):
                totals["containers"] += 1
                totals["persons"] += row["persons"] or 0
                totals["faces"] += row["faces"]
                totals["templates"] += row["templates"]
        return {"templates": sum(row["templates"] for row in listed), "byKind": by_kind,
                "byRecognitionModel": by_model, "containers": listed}

    def holdings(self, person_id: str) -> list[dict]:
        return [_holding(kind, container, person) for kind, container, person in _found(person_id)]

    def erase(self, person_id: str) -> list[dict]:
        erased = []
        for kind, container, person in _found(person_id):
            try:
                persons.delete(kind, container.container_id, person_id)
            except NotFound:
                continue  # a racing delete (of the person or its container) took it
            erased.append(_holding(kind, container, person, described=False))
        return erased


def _found(person_id: str) -> list[tuple[ContainerKind, Container, dict]]:
    """(kind, container, person row) of every person container holding ``person_id``."""
    candidates = [container for container in _containers() if container.kind.has_persons]
    rows = repository.persons().get_each((container.incarnation, person_id) for container in candidates)
    by_incarnation = {row["PartitionKey"]: row for row in rows}
    return [(c.kind, c, by_incarnation[c.incarnation]) for c in candidates if c.incarnation in by_incarnation]


def _holding(kind: ContainerKind, container: Container, row: dict, described: bool = True) -> dict:
    person = repository.person_from_row(row)
    holding = {"source": "galleries", "kind": kind.label, "containerId": container.container_id,
               "containerName": container.name, "personId": person.person_id, "name": person.name,
               "userData": person.user_data, "recognitionModel": container.recognition_model,
               "templates": len(person.face_ids)}
    if described:
        faces = repository.faces().get_each((container.incarnation, face_id) for face_id in person.face_ids)
        holding["persistedFaces"] = [{"persistedFaceId": face["RowKey"], "userData": face.get("UserData"),
                                      "recognitionModel": face.get(RECOGNITION_MODEL)} for face in faces]
    return holding


SOURCE = GalleriesSource()

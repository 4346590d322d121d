"""Inventory source: the PersonDirectory (persons, their faces per recognition model, dynamic
person groups, and journal entries not yet compacted into a snapshot).

Persons and dynamic groups come from the directory's counts rows (``dircounts``), which the
write path changes under an ETag match with every create and delete (shared.directory.counts).
Faces per recognition model come from the face packs themselves: one projected query per
partition (the packs' FaceIds column only, never a template), 256 partitions in parallel.
A person is erased through ``shared.directory.persons.delete`` (journal removePerson first,
then the rows, the packs of every model and the group memberships).
"""
from __future__ import annotations

import json
from collections.abc import Iterable

from shared.directory import counts, groups, journal, packing, persons, repository
from shared.engine.types import RECOGNITION_MODELS
from shared.errors import NotFound
from shared.inventory import scan
from shared.storage.tables import Table

PARTITIONS = [f"{value:02x}" for value in range(256)]  # repository.partition: a personId's first two hex digits


def counter(name: str) -> int:
    row = Table(counts.TABLE).get(counts.PARTITION, name)
    return 0 if row is None else int(row["Value"])


def _per_model(found: Iterable[dict]) -> dict[str, list[int]]:
    """recognition model -> [persons with faces, faces] of one partition's packs."""
    totals: dict[str, list[int]] = {}
    for row in found:
        model = row["RowKey"].split("_", 1)[1]
        faces = len(json.loads(row.get("FaceIds") or "[]"))
        if faces:
            pair = totals.setdefault(model, [0, 0])
            pair[0] += 1
            pair[1] += faces
    return totals


class DirectorySource:
    name = "directory"
    title = "PersonDirectory"

    def summary(self) -> dict:
        partitions = scan.each_partition(repository.faces(), PARTITIONS, ["RowKey", "FaceIds"], _per_model)
        models: dict[str, dict] = {}
        for totals in partitions.values():
            for model, (people, faces) in totals.items():
                entry = models.setdefault(model, {"personsWithFaces": 0, "faces": 0, "templates": 0})
                entry["personsWithFaces"] += people
                entry["faces"] += faces
                entry["templates"] += faces
        for model in RECOGNITION_MODELS:
            head = journal.read_head(model)
            if head.seq or model in models:
                entry = models.setdefault(model, {"personsWithFaces": 0, "faces": 0, "templates": 0})
                entry["journalEntriesNotCompacted"] = head.delta
        return {"templates": sum(entry["templates"] for entry in models.values()),
                "persons": counter(persons.COUNTER), "dynamicPersonGroups": counter(groups.COUNTER),
                "byRecognitionModel": models}

    def holdings(self, person_id: str) -> list[dict]:
        person = repository.find_person(person_id)
        if person is None:
            return []
        packs = repository.faces().get_each((repository.partition(person_id), repository.pack_key(person_id, model))
                                            for model in RECOGNITION_MODELS)
        faces = []
        for row in packs:
            model = row["RowKey"].split("_", 1)[1]
            user_data = json.loads(packing.text(row, "UserData") or "{}")
            faces += [{"persistedFaceId": face_id, "userData": user_data.get(face_id), "recognitionModel": model}
                      for face_id in json.loads(row["FaceIds"])]
        try:
            member_of = groups.references(person_id, "", scan.ALL)
        except NotFound:
            member_of = []  # deleted since it was read
        return [{"source": "directory", "kind": "PersonDirectory", "personId": person_id, "name": person.name,
                 "userData": person.user_data, "templates": len(faces), "persistedFaces": faces,
                 "dynamicPersonGroupIds": member_of}]

    def erase(self, person_id: str) -> list[dict]:
        held = self.holdings(person_id)
        if held:
            try:
                operation = persons.delete(person_id)
            except NotFound:
                return []  # a racing delete took it
            held[0]["operationId"] = operation.operation_id
            del held[0]["persistedFaces"]
        return held


SOURCE = DirectorySource()

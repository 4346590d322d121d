"""Inventory source: the PersonDirectory (persons, their faces per recognition model, dynamic
person groups, and journal entries not yet compacted into a snapshot).

Persons and dynamic groups come from the directory's counts rows (``dircounts``), which the
write path changes under an ETag match with every create and delete (shared.directory.counts);
faces per recognition model from the face-pack partitions' counts rows, which every pack write
changes in the same transaction (shared.directory.facecounts): 256 point reads, whatever the
directory's size. A person is erased through ``shared.directory.persons.delete`` (journal
removePerson first, then the rows, the packs of every model and the group memberships).
"""
from __future__ import annotations

import json

from shared.directory import counts, facecounts, groups, journal, packing, persons, repository
from shared.engine.types import RECOGNITION_MODELS
from shared.errors import NotFound
from shared.inventory import scan
from shared.storage.tables import Table

PARTITIONS = [f"{value:02x}" for value in range(256)]  # repository.partition: a personId's first two hex digits


def counter(name: str) -> int:
    row = Table(counts.TABLE).get(counts.PARTITION, name)
    return 0 if row is None else int(row["Value"])


class DirectorySource:
    name = "directory"
    title = "PersonDirectory"

    def summary(self) -> dict:
        models = {model: {"faces": faces, "templates": faces}
                  for model, faces in facecounts.of_partitions(repository.faces(), PARTITIONS).items() if faces}
        for model in RECOGNITION_MODELS:
            head = journal.read_head(model)
            if head.seq or model in models:
                entry = models.setdefault(model, {"faces": 0, "templates": 0})
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

"""The data inventory with the PostgreSQL engine: the vectors it holds are one more source,
counted per container from PostgreSQL itself, and a person's erase leaves none of theirs."""
from __future__ import annotations

import requests

from gallery_support import photos
from svc_support import all_people

MODEL = "recognition_01"


def test_inventory_counts_postgres_vectors_and_erase_leaves_none(pg, api, service):
    from shared.postgres import vectors

    name = all_people()[7]
    person_id = api("POST", "persons", {"name": name}).json()["personId"]
    for path in photos(name)[:2]:
        added = api("POST", f"persons/{person_id}/recognitionModels/{MODEL}/persistedfaces", data=path.read_bytes())
        assert api.finished(added)["status"] == "succeeded"
    admin = {"Ocp-Apim-Subscription-Key": service.admin_key}
    inventory = requests.get(f"{service.url}/inventory", headers=admin, timeout=120).json()
    held = next(source for source in inventory["sources"] if source["name"] == "postgresVectors")
    in_postgres = len(vectors.faces_of(vectors.directory_container(MODEL)))
    assert held["engine"] == "postgres" and held["templates"] == in_postgres >= 2
    directory = next(entry for entry in held["containers"] if entry["container"] == f"PersonDirectory/{MODEL}")
    assert directory["vectors"] == in_postgres and 1 <= directory["centroids"] <= in_postgres
    holdings = requests.get(f"{service.url}/inventory/persons/{person_id}", headers=admin, timeout=120).json()["holdings"]
    assert {(h["source"], h["templates"]) for h in holdings} == {("directory", 2), ("postgresVectors", 2)}
    assert next(h for h in holdings if h["source"] == "postgresVectors")["centroids"] == 1
    erased = requests.delete(f"{service.url}/inventory/persons/{person_id}", headers=admin, timeout=120).json()
    assert erased["remaining"] == []  # vectors and centroid
    assert person_id not in vectors.faces_of(vectors.directory_container(MODEL)).values()

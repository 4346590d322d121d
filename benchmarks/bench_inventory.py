"""How long the data inventory takes on a large PersonDirectory.

    .venv/bin/python benchmarks/bench_inventory.py [--faces 1000000] [--faces-per-person 5] [--repeats 3]

Private Azurite (in-memory). Persons and their face packs (sealed synthetic templates, the
stored shape) are written straight through the directory repository, plus the persons counter
row the write path keeps; then GET /inventory's work (shared.inventory.report.inventory) is
timed --repeats times, and the directory's numbers are checked against the rows written.
Prints min and median seconds; the directory part is one projected query per partition (the
packs' FaceIds column only), 256 partitions on 16 threads, so the time grows with the pack rows.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from bench_identify import configure, start_azurite  # noqa: E402

MODEL, DIMS, BATCH = "recognition_04", 128, 2_000


def fill(faces: int, per_person: int) -> int:
    from shared.directory import counts, persons, repository
    from shared.directory.records import DirectoryPerson, FacePack, PackedFace
    from shared.engine.types import Template

    rng = np.random.default_rng(5)
    people = faces // per_person
    for start in range(0, people, BATCH):
        batch = [DirectoryPerson(str(uuid.uuid4()), f"person {start + i}", None) for i in range(min(BATCH, people - start))]
        packs = [FacePack(person.person_id, MODEL, [
            PackedFace(str(uuid.uuid4()), None, Template(rng.normal(size=DIMS).astype(np.float32), "sface", "1", MODEL))
            for _ in range(per_person)]) for person in batch]
        repository.insert_people(batch, packs)
        counts.add(persons.COUNTER, len(batch), None, "persons")
        print(f"  {start + len(batch):,} persons written", end="\r", flush=True)
    print()
    return people


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--faces-per-person", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    azurite, connection = start_azurite(None)
    try:
        configure(connection)
        started = time.perf_counter()
        people = fill(args.faces, args.faces_per_person)
        print(f"wrote {people:,} persons x {args.faces_per_person} faces in {time.perf_counter() - started:.0f} s")
        from shared.inventory import report

        seconds = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            inventory = report.inventory()
            seconds.append(time.perf_counter() - started)
        directory = next(source for source in inventory["sources"] if source["name"] == "directory")
        assert directory["persons"] == people, directory
        assert directory["byRecognitionModel"][MODEL]["faces"] == people * args.faces_per_person, directory
        print(f"inventory of a directory of {people * args.faces_per_person:,} faces: min {min(seconds):.2f} s, "
              f"median {statistics.median(seconds):.2f} s over {args.repeats} runs (numbers checked)")
    finally:
        azurite.terminate()
        azurite.wait(timeout=30)


if __name__ == "__main__":
    main()

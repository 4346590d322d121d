"""Compaction and the maintenance sweep, in process on an empty directory of synthetic templates:
the published snapshot answers what the delta answered, removals survive it (a late add of a
deleted person included), a run that dies or is superseded changes nothing readers see, and the
sweep queues due compactions, removes leftovers and finishes operations whose process died."""
from __future__ import annotations

import uuid

import numpy as np
import pytest

from gallery_support import drain

MODEL = "recognition_02"


@pytest.fixture
def directory(isolated):
    from shared.directory import artifacts, compaction, faces, journal, maintenance, persons, repository, view

    class Modules:
        pass

    modules = Modules()
    for module in (artifacts, compaction, faces, journal, maintenance, persons, repository, view):
        setattr(modules, module.__name__.rsplit(".", 1)[1], module)
    return modules


def _template(vector: np.ndarray):
    from shared.engine.types import Template

    return Template(np.asarray(vector, np.float32), "dlib_resnet_v1", "1", MODEL)


def _enrol(directory, count: int, faces: int = 3, seed: int = 1) -> tuple[list[str], np.ndarray]:
    """``count`` synthetic persons; returns their ids and one fresh query vector each."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 0.7 / np.sqrt(128), (count, 128))
    people = [directory.persons.NewPerson(f"p{i}", faces={MODEL: [
        directory.faces.NewFace(_template(centre + rng.normal(0, 0.25 / np.sqrt(128), 128))) for _ in range(faces)]})
        for i, centre in enumerate(centres)]
    queries = centres + rng.normal(0, 0.25 / np.sqrt(128), centres.shape)
    return directory.persons.enrol(people), queries.astype(np.float32)


def _answers(directory, queries: np.ndarray, k: int = 3) -> list[list[str]]:
    state = directory.view.ModelView(MODEL).current()  # a fresh process's view
    return [[person for person, _ in state.search_persons(query, k, None)] for query in queries]


def test_the_published_snapshot_answers_what_the_delta_answered(directory):
    ids, queries = _enrol(directory, 40)
    running = directory.view.ModelView(MODEL)
    before = [[p for p, _ in running.current().search_persons(q, 3, None)] for q in queries]
    assert [answer[0] for answer in before] == ids
    directory.compaction.run({"model": MODEL})
    head = directory.journal.read_head(MODEL)
    assert head.snapshot and head.snapshot_seq == head.seq and head.snapshot_entries == head.entries == 120
    assert not head.compaction
    assert list(directory.journal.entries_between(MODEL, 0, head.seq)) == []
    assert _answers(directory, queries) == before
    assert [[p for p, _ in running.current().search_persons(q, 3, None)] for q in queries] == before
    state = running.current()
    assert state.index is not None and state.count == 0 and state.snapshot_seq == head.seq


def test_removals_survive_compaction_and_a_late_add_of_a_deleted_person_stays_hidden(directory, clock):
    from shared.directory.journal import ADD, REMOVE_FACE, Entry

    ids, queries = _enrol(directory, 6)
    directory.persons.finish_delete(ids[0])
    assert ids[0] not in _answers(directory, queries[:1])[0]
    directory.compaction.run({"model": MODEL})
    head = directory.journal.read_head(MODEL)
    assert ids[0] in directory.artifacts.load_removed(head.removed)
    assert ids[0].encode() not in set(directory.artifacts.load_pack(head.pack).person_ids.tolist())
    # An add for the person that was in flight when the delete ran commits afterwards ...
    late = str(uuid.uuid4())
    directory.journal.append(MODEL, [Entry(ADD, ids[0], late, _template(queries[0]))])
    assert ids[0] not in _answers(directory, queries[:1])[0]
    directory.compaction.run({"model": MODEL})
    assert ids[0] not in _answers(directory, queries[:1])[0]
    # ... and, finding the person gone, commits its removal (or the sweep does it for the add).
    directory.journal.append(MODEL, [Entry(REMOVE_FACE, ids[0], late)])
    clock.advance(3601)  # FACE_DIRECTORY_REMOVAL_HOLD_SECONDS: the person leaves the published list
    directory.compaction.run({"model": MODEL})
    head = directory.journal.read_head(MODEL)
    assert ids[0] not in directory.artifacts.load_removed(head.removed)
    assert ids[0] not in _answers(directory, queries[:1])[0]
    assert _answers(directory, queries[1:2])[0][0] == ids[1]


def test_a_compaction_that_dies_changes_nothing_readers_see(directory, monkeypatch):
    ids, queries = _enrol(directory, 12)
    before = _answers(directory, queries)

    def die(*_):
        raise RuntimeError("killed")

    with monkeypatch.context() as patch:
        patch.setattr(directory.artifacts, "put_removed", die)
        with pytest.raises(RuntimeError):
            directory.compaction.run({"model": MODEL})
    head = directory.journal.read_head(MODEL)
    assert not head.snapshot and not head.compaction and head.snapshot_seq == 0
    assert directory.artifacts.names(MODEL)  # its pack (and index) were written
    assert _answers(directory, queries) == before
    directory.maintenance.sweep()
    assert directory.artifacts.names(MODEL) == []
    directory.compaction.run({"model": MODEL})
    assert _answers(directory, queries) == before
    assert len(directory.artifacts.names(MODEL)) == 3


def test_a_superseded_compaction_deletes_its_own_blobs(directory, monkeypatch, clock):
    ids, queries = _enrol(directory, 8)
    before = _answers(directory, queries)
    put_removed = directory.artifacts.put_removed

    def overtaken(blob, removed):
        # While this run writes, its claim goes stale and a newer run publishes first.
        monkeypatch.setattr(directory.artifacts, "put_removed", put_removed)
        clock.advance(directory.journal.compaction_timeout().total_seconds() + 1)
        directory.compaction.run({"model": MODEL})
        put_removed(blob, removed)

    monkeypatch.setattr(directory.artifacts, "put_removed", overtaken)
    directory.compaction.run({"model": MODEL})  # logs "superseded" and returns
    head = directory.journal.read_head(MODEL)
    assert sorted(directory.artifacts.names(MODEL)) == sorted(b for b in (head.snapshot, head.pack, head.removed))
    assert _answers(directory, queries) == before


def test_the_sweep_queues_compactions_when_the_delta_is_full_or_removals_wait(directory, monkeypatch, clock):
    from shared.directory.journal import COMPACTION_QUEUE

    monkeypatch.setenv("FACE_DIRECTORY_DELTA_LIMIT", "10")
    ids, queries = _enrol(directory, 4)  # 12 entries: the commit itself queues the compaction
    assert drain(COMPACTION_QUEUE, directory.compaction.run) == 1
    published = directory.journal.read_head(MODEL)
    assert published.snapshot_entries == 12 and published.snapshot_seq == published.seq
    directory.persons.finish_delete(ids[1])
    assert directory.maintenance.sweep() == 0 and drain(COMPACTION_QUEUE, directory.compaction.run) == 0
    clock.advance(3601)  # FACE_DIRECTORY_PURGE_SECONDS: the deleted templates must leave the snapshot
    directory.maintenance.sweep()
    # A person delete is journaled under every recognition model (a face add in any of them may
    # be in flight), so each model gets its compaction.
    assert drain(COMPACTION_QUEUE, directory.compaction.run) == 4
    head = directory.journal.read_head(MODEL)
    assert head.snapshot_seq == head.seq and head.removals_since is None
    assert ids[1].encode() not in set(directory.artifacts.load_pack(head.pack).person_ids.tolist())
    assert published.pack not in directory.artifacts.names(MODEL)  # the old pack held them


def test_the_sweep_finishes_or_undoes_adds_whose_process_died(directory, clock):
    from shared.directory.records import PackedFace
    from shared.operations import store as operations

    ids, queries = _enrol(directory, 2)

    def started(face_id: str):
        detail = {"personId": ids[0], "model": MODEL, "faceId": face_id}
        return operations.start(directory.faces.ADD_KIND, "", detail)

    joined, never = str(uuid.uuid4()), str(uuid.uuid4())
    joined_operation, never_operation = started(joined), started(never)
    # One died after joining the face to the pack (step 1), the other before doing anything.
    directory.repository.change_pack(ids[0], MODEL, lambda pack: pack.faces.append(
        PackedFace(joined, None, _template(queries[0] * 1.01))) or pack)
    assert directory.maintenance.finish_abandoned() == 0  # not yet: they might still be working
    clock.advance(601)
    assert directory.maintenance.finish_abandoned() == 2
    assert operations.get(joined_operation.operation_id).status == "succeeded"
    assert operations.get(never_operation.operation_id).status == "failed"
    state = directory.view.ModelView(MODEL).current()
    assert joined in state.buffer.face_ids[: state.count] and never in state.removed_faces
    stored = directory.repository.find_pack(ids[0], MODEL).face_ids
    assert joined in stored and never not in stored


def test_the_sweep_finishes_a_person_delete_whose_process_died(directory, clock):
    from shared.directory.journal import REMOVE_PERSON, Entry
    from shared.operations import store as operations

    ids, queries = _enrol(directory, 2)
    face_ids = directory.repository.find_pack(ids[0], MODEL).face_ids
    operation = operations.start(directory.persons.DELETE_KIND, f"persons/{ids[0]}", {"personId": ids[0]})
    directory.journal.append(MODEL, [Entry(REMOVE_PERSON, ids[0])])  # hidden; then the process dies
    assert ids[0] not in _answers(directory, queries[:1])[0]
    clock.advance(601)
    directory.maintenance.finish_abandoned()
    assert operations.get(operation.operation_id).status == "succeeded"
    assert directory.repository.find_person(ids[0]) is None
    assert face_ids and directory.repository.find_pack(ids[0], MODEL).faces == []

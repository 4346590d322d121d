"""The app killed with SIGKILL in the middle of a write, a training or the sweep.

The fault proxy holds the storage request of the step to interrupt (it never reaches
Azurite), the test kills the app while it waits, and starts it again. Then: a retried
container DELETE finishes the first one's work; the sweep finishes or undoes everything
else; training finishes by itself; and every invariant of audit.gallery_violations holds.

By default the crashes hit every step of a container delete, add-face, delete-person,
training and the sweep; RELIABILITY_FULL=1 hits every step of every gallery write.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from audit import gallery_violations, settle
from faultproxy import Trip
from scenarios import OPERATIONS, drop, is_write, make_gallery, send, storage_requests, trained
from shared.galleries import repository, snapshots
from shared.galleries.kinds import LARGE_PERSON_GROUP

FULL = os.environ.get("RELIABILITY_FULL") == "1"
_SNAPSHOT_WRITE = rb"^(PUT|DELETE) /devstoreaccount1/\S+-snapshots/"


KILLS = {"count": 0}


@pytest.fixture(scope="module", autouse=True)
def report_kills():
    """The figure docs/reliability.md quotes (shown with pytest -s)."""
    yield
    print(f"\ncrashes: {KILLS['count']} SIGKILLs survived")


def crash_at(app, plan, call: tuple, trip: Trip) -> requests.Response | None:
    """Send ``call``; when ``trip`` holds the storage request it matches, SIGKILL the app
    (the held request never reaches storage); then start the app again. Returns the answer,
    None if the app died before giving one (work queued after answering dies later)."""
    plan.arm(trip)
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(send, app, call)
        assert trip.fired.wait(60), plan.requests
        app.kill()
        KILLS["count"] += 1
        plan.clear()
        try:
            response = answer.result()
        except requests.ConnectionError:
            response = None
    app.start()
    return response


def _write_steps(app, plan, name: str) -> list[int]:
    return [number for number, line in enumerate(storage_requests(app, plan, OPERATIONS[name])) if is_write(line)]


def test_a_container_delete_killed_at_any_step_is_finished_by_a_retried_delete(app_storage, plan):
    """The client's retry (its SDK retries a DELETE whose connection dropped) answers 200
    and leaves nothing behind, without waiting for any sweep."""
    app, operation = app_storage, OPERATIONS["delete container"]
    steps = _write_steps(app, plan, operation.name)
    assert len(steps) >= 4  # the counted removal, snapshot blobs, face rows, person rows, ...
    for number in steps:
        gallery = operation.setup()
        plan.reset_log()
        crash_at(app, plan, operation.request(gallery), Trip("hold", number=number))
        retry = send(app, operation.request(gallery))
        assert retry.status_code == 200, (number, retry.text)
        assert gallery.gone() and gallery_violations() == [], number


def test_a_container_delete_killed_after_its_first_step_is_finished_by_the_next_sweep(app_storage, plan):
    """Nobody retries: the app's own sweep timer finishes the delete on its next run, snapshot
    blobs included (those outlived a stopped app by hours before)."""
    app, operation = app_storage, OPERATIONS["delete container"]
    gallery = operation.setup()
    blobs = f"{gallery.kind.key}/{gallery.container_id}/"
    assert list(snapshots.store().names(blobs))
    crash_at(app, plan, operation.request(gallery), Trip("hold", pattern=_SNAPSHOT_WRITE))
    assert gallery.gone() and list(snapshots.store().names(blobs))  # deleted for the API, not yet in storage
    assert send(app, ("POST", "admin/functions/sweep", b"{}", "application/json")).status_code == 202
    assert list(snapshots.store().names(blobs)) == []
    assert gallery_violations() == []


@pytest.mark.parametrize("name", [name for name in OPERATIONS if FULL or name in ("add person face", "delete person")])
def test_a_write_killed_at_any_step_is_whole_or_absent_after_the_sweep(app_storage, plan, clock, name):
    app, operation = app_storage, OPERATIONS[name]
    for number in _write_steps(app, plan, name):
        gallery = operation.setup()
        plan.reset_log()
        crash_at(app, plan, operation.request(gallery), Trip("hold", number=number))
        settle(clock)
        assert gallery_violations() == [], (name, number)
        drop(gallery)


def test_a_training_killed_midway_finishes_after_the_restart(app_storage, plan, clock):
    """The worker dies while writing the snapshot; its queue message comes back when its
    lease runs out, and the restarted app trains to the end."""
    app = app_storage
    gallery = make_gallery(LARGE_PERSON_GROUP)
    answer = crash_at(app, plan, ("POST", f"{gallery.path}/train", b"", "application/json"),
                      Trip("hold", pattern=rb"^PUT /devstoreaccount1/\S+-snapshots/"))
    assert answer is not None and answer.status_code == 202  # the worker died after the request was answered
    assert trained(gallery, timeout=60)
    container = repository.get_container(gallery.kind, gallery.container_id)
    assert list(snapshots.store().names(f"{gallery.kind.key}/{gallery.container_id}/")) == [container.snapshot]
    settle(clock)
    assert gallery_violations() == []
    drop(gallery)


def test_a_sweep_killed_midway_leaves_nothing_half_done(app_storage, plan, clock):
    """Two deletes interrupted after their first step, then the sweep that finishes them
    killed at its first blob delete: the next sweep finishes both, and a live group is
    untouched."""
    app, operation = app_storage, OPERATIONS["delete container"]
    live = make_gallery(LARGE_PERSON_GROUP, trained=True)
    for gallery in (operation.setup(), operation.setup()):
        crash_at(app, plan, operation.request(gallery), Trip("hold", pattern=_SNAPSHOT_WRITE))
    crash_at(app, plan, ("POST", "admin/functions/sweep", b"{}", "application/json"),
             Trip("hold", pattern=_SNAPSHOT_WRITE))
    settle(clock)
    assert gallery_violations() == []
    people = list(repository.all_persons(live.incarnation))
    assert {p.person_id: p.face_ids for p in people} == live.faces
    drop(live)


"""A storage outage that starts at any storage request of a gallery write: before the request
reaches storage, or after it landed but before its answer comes back (the app cannot know
it happened). After the outage clears and the sweep has run, a write that answered 2xx is
there, a write that failed is entirely there or entirely absent, and every invariant of
audit.gallery_violations holds (no orphan template, no counter drift, no half-deleted person).

Every storage request of each operation is interrupted both ways with
RELIABILITY_FULL=1; by default the outage starts at each write request only (interrupting a
read is the same as interrupting the write after it, "before").
"""
from __future__ import annotations

import os

import pytest

from audit import gallery_violations, settle
from faultproxy import Fault, Trip
from scenarios import OPERATIONS, drop, is_write, send, storage_requests

FULL = os.environ.get("RELIABILITY_FULL") == "1"


def _interruptions(seen: list[bytes]) -> list[tuple[int, str]]:
    points = []
    for number, line in enumerate(seen):
        if FULL or is_write(line):
            points.append((number, "before"))
        if is_write(line):
            points.append((number, "after"))
    return points


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=lambda op: op.name.replace(" ", "-"))
def test_an_outage_at_any_storage_request_leaves_the_write_whole_or_absent(app_storage, plan, clock, operation):
    app = app_storage
    outcomes = []
    for number, when in _interruptions(storage_requests(app, plan, operation)):
        gallery = operation.setup()
        plan.reset_log()
        trip = plan.arm(Trip(when, number=number, then=Fault.RESET))
        response = send(app, operation.request(gallery))
        assert trip.fired.is_set(), (operation.name, number, plan.requests)
        plan.clear()
        where = f"{operation.name}: outage {when} {trip.request.decode()} (#{number}) -> {response.status_code}"
        assert response.status_code < 300 or response.status_code == 503, (where, response.text)
        settle(clock)
        applied = operation.applied(gallery, app, response)
        assert applied or response.status_code >= 300, where  # a 2xx write is there
        assert gallery_violations() == [], where
        outcomes.append((number, when, response.status_code, applied))
        drop(gallery)
    assert any(status == 503 for _, _, status, _ in outcomes), outcomes
    print(f"\n{operation.name}: {len(outcomes)} outages survived "
          f"({sum(status < 300 for _, _, status, _ in outcomes)} answered 2xx, "
          f"{sum(status == 503 for _, _, status, _ in outcomes)} answered 503, "
          f"{sum(applied for *_, applied in outcomes)} left the write applied)")

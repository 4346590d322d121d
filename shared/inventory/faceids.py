"""Inventory source: detect's faceIds (a template each, until faceIdTimeToLive runs out).

Counted from the faceids table itself (expiry and model columns only). A row whose expiry has
passed is already refused by every read; it is listed apart as "expired, awaiting the sweep"
until the sweep removes it. FaceIds are not linked to any person.
"""
from __future__ import annotations

from datetime import datetime, timezone

from shared import clock
from shared.storage.faceids import EXPIRES_AT, TABLE
from shared.storage.tables import Table
from shared.storage.templates import RECOGNITION_MODEL
from shared.inventory.source import NothingPerPerson

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)  # every row's expiry is after this: a whole-table filter


class FaceIdSource(NothingPerPerson):
    name = "faceIds"
    title = "Detected faceIds"

    def summary(self) -> dict:
        now = clock.now()
        live, expired, by_model, expiries = 0, 0, {}, []
        every = Table(TABLE).query(f"{EXPIRES_AT} gt @epoch", {"epoch": EPOCH}, select=[EXPIRES_AT, RECOGNITION_MODEL])
        for row in every:
            if row[EXPIRES_AT] <= now:
                expired += 1
                continue
            live += 1
            expiries.append(row[EXPIRES_AT])
            model = row.get(RECOGNITION_MODEL) or "unknown"
            by_model[model] = by_model.get(model, 0) + 1
        return {"templates": live, "live": live, "expiredAwaitingSweep": expired, "byRecognitionModel": by_model,
                "nextExpiry": clock.timestamp(min(expiries)) if expiries else None,
                "lastExpiry": clock.timestamp(max(expiries)) if expiries else None}


SOURCE = FaceIdSource()

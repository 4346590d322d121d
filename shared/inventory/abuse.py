"""Inventory source: liveness abuse-monitoring observations (v1.3-preview.1), one template
each, kept 48 hours and deleted with their session. Counted from their table (expiry column
only); an expired row is refused by every read already and listed apart until the sweep.
They are linked to sessions, not to any personId.
"""
from __future__ import annotations

from shared import clock
from shared.inventory.source import NothingPerPerson
from shared.liveness import abuse, monitoring
from shared.liveness.records import EXPIRES_AT
from shared.storage.tables import Table


class AbuseSource(NothingPerPerson):
    name = "abuseMonitoring"
    title = "Liveness abuse-monitoring templates"

    def summary(self) -> dict:
        now = clock.now()
        rows = Table(abuse.TABLE).query("PartitionKey ge @first", {"first": ""}, select=["PartitionKey", EXPIRES_AT])
        expiries = sorted(row[EXPIRES_AT] for row in rows)
        live = [moment for moment in expiries if moment > now]
        return {"monitoring": monitoring.enabled(), "templates": len(live),
                "expiredAwaitingSweep": len(expiries) - len(live),
                "nextExpiry": clock.timestamp(live[0]) if live else None,
                "lastExpiry": clock.timestamp(live[-1]) if live else None}


SOURCE = AbuseSource()

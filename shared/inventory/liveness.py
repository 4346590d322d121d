"""Inventory source: liveness sessions, each with the time it and all its data are deleted.

Read from the sessions table (the session rows' plain columns; a with-verify session's
reference template is counted, never read) and the session-image blobs (encrypted frames a
creator asked for). A session is not linked to any personId.
"""
from __future__ import annotations

from collections import Counter

from shared import clock
from shared.liveness import images
from shared.liveness.kinds import KINDS
from shared.liveness.records import EXPIRES_AT, SESSION_ROW
from shared.liveness.store import TABLE
from shared.storage.tables import Table
from shared.inventory.source import NothingPerPerson

_COLUMNS = ["PartitionKey", "Kind", "Mode", "CreatedAt", EXPIRES_AT, "Admitted", "VerifyImageHash"]


class LivenessSource(NothingPerPerson):
    name = "livenessSessions"
    title = "Liveness sessions"

    def summary(self) -> dict:
        now = clock.now()
        rows = Table(TABLE).query("RowKey eq @row", {"row": SESSION_ROW}, select=_COLUMNS)
        sessions = sorted(({"sessionId": row["PartitionKey"], "kind": KINDS[row["Kind"]].ga_path.removesuffix("-sessions"),
                            "mode": row["Mode"], "createdDateTime": clock.timestamp(row["CreatedAt"]),
                            "deletionDateTime": clock.timestamp(row[EXPIRES_AT]), "attempts": int(row["Admitted"]),
                            "verifyTemplate": "VerifyImageHash" in row, "expired": row[EXPIRES_AT] <= now}
                           for row in rows), key=lambda session: session["deletionDateTime"])
        per_session = Counter(name.split("/", 1)[0] for name in images.store().names())
        for session in sessions:
            session["sessionImages"] = per_session.get(session["sessionId"], 0)
        deletions = [session["deletionDateTime"] for session in sessions]
        return {"templates": sum(session["verifyTemplate"] for session in sessions), "count": len(sessions),
                "sessionImages": sum(per_session.values()),
                "nextExpiry": min(deletions) if deletions else None, "lastExpiry": max(deletions) if deletions else None,
                "sessions": sessions}


SOURCE = LivenessSource()

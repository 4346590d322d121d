"""Liveness sessions and their entries in Table Storage (layout in records.py).

Every write that belongs to a session goes through one transaction that also touches the
session row under a precondition: admitting or recording a request matches the row's ETag
(so counters never overshoot), finishing an attempt requires the row to still exist. A
DELETE removes the session row first, so an attempt running at that moment cannot write
anything afterwards: its transaction fails and nothing is resurrected.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from shared import clock
from shared.errors import Conflict
from shared.liveness.kinds import SessionKind
from shared.liveness.records import (
    ENTRY_PREFIX,
    EXPIRES_AT,
    SESSION_ROW,
    Entry,
    Session,
    entry_from_row,
    entry_key,
    entry_record,
    entry_row,
    session_from_row,
    session_row,
)
from shared.storage.tables import Table, merge_step

TABLE = "livenesssessions"
_MAX_TRIES = 20


class SessionGone(Exception):
    """The session was deleted (or expired) while a request was working on it."""


class SessionStore:
    def __init__(self) -> None:
        self._table = Table(TABLE)

    def insert(self, session: Session) -> None:
        self._table.insert(session_row(self._table.name, session))

    def get(self, session_id: str) -> Session | None:
        """The session, or None when it does not exist or is past retention (whether or not
        the sweep has removed it yet)."""
        row = self._table.get(session_id, SESSION_ROW)
        if row is None or row[EXPIRES_AT] <= clock.now():
            return None
        return session_from_row(self._table.name, row)

    def exists(self, session_id: str) -> bool:
        """Whether the session row is stored at all (expired or not)."""
        return self._table.get(session_id, SESSION_ROW) is not None

    def list(self, kind: SessionKind, start: str, top: int) -> list[Session]:
        """Live sessions of one kind with ids after ``start``, in id order."""
        rows = self._table.query("RowKey eq @row and Kind eq @kind and PartitionKey gt @start and ExpiresAt gt @now",
                                 {"row": SESSION_ROW, "kind": kind.key, "start": start, "now": clock.now()})
        found = []
        for row in rows:
            found.append(session_from_row(self._table.name, row))
            if len(found) == top:
                break
        return found

    def entries(self, session_id: str, after: int = 0, top: int | None = None) -> list[Entry]:
        rows = self._table.query("PartitionKey eq @pk and RowKey gt @after and RowKey lt @end",
                                 {"pk": session_id, "after": entry_key(after), "end": ENTRY_PREFIX + "~"})
        entries = [entry_from_row(row) for row in rows]
        return entries if top is None else entries[:top]

    def admit(self, session: Session, make_entry: Callable[[Session], Entry]) -> tuple[Session, Entry]:
        """Count one more attempt and record it as Running, atomically. ``make_entry`` sees
        the fresh session and may raise (e.g. no attempts left) to refuse instead."""
        def step(current: Session) -> tuple[Session, Entry]:
            entry = make_entry(current)
            updated = replace(current, admitted=current.admitted + 1, entries=entry.entry_id,
                              started=current.started or entry.request.received)
            return updated, entry

        return self._append(session, step, {"Admitted", "Entries", "StartedAt"})

    def record(self, session: Session, make_entry: Callable[[Session], Entry]) -> Entry:
        """Record a refused request on the session."""
        def step(current: Session) -> tuple[Session, Entry]:
            entry = make_entry(current)
            return replace(current, entries=entry.entry_id), entry

        return self._append(session, step, {"Entries"})[1]

    def finish(self, session: Session, entry: Entry) -> None:
        """Store an admitted attempt's result; SessionGone if the session was deleted meanwhile."""
        touch = {"PartitionKey": session.session_id, "RowKey": SESSION_ROW, "LastAttemptAt": clock.now()}
        row = entry_row(session, entry)
        if not self._table.transact_if([merge_step(touch), merge_step(row)]):
            raise SessionGone(session.session_id)

    def flag(self, session_id: str, entry_id: int, other: dict) -> None:
        """Add ``other`` to an attempt's abuseMonitoringResult (a later attempt matched it);
        nothing when the attempt is gone or was not monitored."""
        for _ in range(_MAX_TRIES):
            row = self._table.get(session_id, entry_key(entry_id))
            if row is None:
                return
            entry = entry_from_row(row)
            others = entry.outcome.abuse_others
            if others is None or other in others:
                return
            flagged = replace(entry, outcome=replace(entry.outcome, abuse_others=[*others, other]))
            if self._table.transact_if([merge_step(entry_record(session_id, flagged), row.metadata["etag"])]):
                return
        raise Conflict("Too many concurrent requests on this liveness session; retry.")

    def delete(self, session_id: str) -> bool:
        """Delete the session row (which revokes its token at once), then its entries.
        False when there was no session row."""
        existed = self._table.delete_existing(session_id, SESSION_ROW)
        self._table.delete_rows(session_id, [row["RowKey"] for row in self._table.partition(session_id, ["RowKey"])])
        return existed

    def expired_session_ids(self) -> set[str]:
        """Sessions (and leftover entries) whose retention has ended."""
        rows = self._table.query(f"{EXPIRES_AT} le @now", {"now": clock.now()}, select=["PartitionKey"])
        return {row["PartitionKey"] for row in rows}

    def _append(self, session: Session, step: Callable[[Session], tuple[Session, Entry]],
                changed: set[str]) -> tuple[Session, Entry]:
        current = session
        for _ in range(_MAX_TRIES):
            updated, entry = step(current)
            row = {key: value for key, value in session_row(self._table.name, updated).items()
                   if key in changed or key in ("PartitionKey", "RowKey")}
            if self._table.transact_if([merge_step(row, current.etag), ("create", entry_row(updated, entry))]):
                return replace(updated, etag=None), entry
            current = self.get(session.session_id)
            if current is None:
                raise SessionGone(session.session_id)
        raise Conflict("Too many concurrent requests on this liveness session; retry.")

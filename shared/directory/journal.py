"""The directory's journal: every change to what a recognition model's search returns, in order.

Table ``dirjournal``, one partition per recognition model: one row per commit, keyed by a
12-digit sequence number, and one ``head`` row (it sorts after the digits) holding the last
sequence number, the published snapshot and the compaction state. A commit replaces the head
(ETag-matched, Seq += 1) and creates its row in one entity-group transaction, so a commit's
entries appear all at once, in order and without gaps, or not at all; a reader that asks for
"every row after my watermark" gets the new entries and the head in one range query.

Entries: ``add`` (a face, its person and its sealed template: readers search it without another
read), ``removeFace`` and ``removePerson`` (ids only). Concurrent requests of one process share
commits (up to 500 entries per row, packed as in packing.py), so the head is written once per
group rather than once per request, and a bulk enrolment writes few rows.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared import clock
from shared.engine.types import RECOGNITION_MODELS, Template
from shared.storage.rows import etag_of, settle
from shared.settings import env_int
from shared.storage.queues import WorkQueue
from shared.directory import packing
from shared.storage.tables import Table, replace_op
from shared.storage.templates import row_location

logger = logging.getLogger(__name__)
TABLE = "dirjournal"
HEAD = "head"
COMPACTION_QUEUE = "directorycompaction"
ADD, REMOVE_FACE, REMOVE_PERSON = "add", "removeFace", "removePerson"
MAX_ENTRIES = 500  # per commit row: 500 templates and their ids stay well inside a row's 1 MiB


@dataclass(frozen=True)
class Entry:
    kind: str
    person_id: str
    face_id: str = ""
    template: Template | None = None  # add entries only
    seq: int = 0  # the commit's sequence number, assigned by the commit
    committed: datetime | None = None  # the storage service's time of the commit (entries read back)


@dataclass(frozen=True)
class Head:
    seq: int = 0  # last commit
    entries: int = 0  # entries in all commits so far
    snapshot_seq: int = 0  # commits up to here are in the published snapshot
    snapshot_entries: int = 0  # and this many entries
    snapshot: str = ""  # blob of the published index ("" before the first compaction)
    pack: str = ""  # blob of the templates that index was built from (the next compaction's base)
    removed: str = ""  # blob of the persons removed recently (see compaction.py)
    embedder: str = ""  # the embedder this model's templates are made with, fixed by the first add
    compaction: str = ""  # token of the compaction working on the model ("" when none)
    compaction_started: datetime | None = None
    compaction_queued: datetime | None = None
    removals_since: datetime | None = None  # oldest removal the snapshot still contains

    @property
    def delta(self) -> int:
        """Entries not yet in the published snapshot."""
        return self.entries - self.snapshot_entries

    def claim_live(self, now: datetime) -> bool:
        """A compaction has claimed the model, recently enough that its worker may be alive."""
        return bool(self.compaction) and self.compaction_started is not None \
            and now - self.compaction_started < compaction_timeout()


def table() -> Table:
    return Table(TABLE)


def key(seq: int) -> str:
    return f"{seq:012d}"


def delta_limit() -> int:
    return env_int("FACE_DIRECTORY_DELTA_LIMIT", 20_000)


def compaction_timeout() -> timedelta:
    return timedelta(seconds=env_int("FACE_DIRECTORY_COMPACTION_TIMEOUT_SECONDS", 1800))


# ---------------------------------------------------------------- head

_DATES = {"compaction_started": "CompactionStarted", "compaction_queued": "CompactionQueued",
          "removals_since": "RemovalsSince"}
_TEXTS = {"snapshot": "Snapshot", "pack": "Pack", "removed": "Removed", "embedder": "Embedder",
          "compaction": "Compaction"}


def _head_to_row(model: str, head: Head) -> dict:
    row = {"PartitionKey": model, "RowKey": HEAD, "Seq": head.seq, "SnapshotSeq": head.snapshot_seq,
           "Entries": head.entries, "SnapshotEntries": head.snapshot_entries}
    row.update({column: getattr(head, name) for name, column in _TEXTS.items()})
    row.update({column: getattr(head, name) for name, column in _DATES.items() if getattr(head, name) is not None})
    return row


def _head_from_row(row: dict) -> Head:
    return Head(seq=int(row["Seq"]), snapshot_seq=int(row["SnapshotSeq"]), entries=int(row.get("Entries", 0)),
                snapshot_entries=int(row.get("SnapshotEntries", 0)),
                **{name: row.get(column, "") for name, column in _TEXTS.items()},
                **{name: row.get(column) for name, column in _DATES.items()})


def read_head(model: str) -> Head:
    row = table().get(model, HEAD)
    return Head() if row is None else _head_from_row(row)


def change_head(model: str, change: Callable[[Head], Head],
                rows: Callable[[Head], list[dict]] = lambda _: []) -> Head:
    """Read-modify-write of the head (created empty on first use), in one transaction with the
    new ``rows(updated head)``; ``change`` may raise to give up. Returns the head written."""
    store, written = table(), []

    def build() -> list[tuple]:
        row = store.get(model, HEAD)
        updated = change(Head() if row is None else _head_from_row(row))
        written[:] = [updated]
        head_row = _head_to_row(model, updated)
        operation = ("create", head_row) if row is None else replace_op(head_row, etag_of(row))
        return [operation, *(("create", new) for new in rows(updated))]

    settle(store, build)
    return written[0]


# ---------------------------------------------------------------- entries

def _commit_row(model: str, seq: int, entries: list[Entry]) -> dict:
    row = {"PartitionKey": model, "RowKey": key(seq)}
    packing.put_text(row, "Changes", json.dumps([[e.kind, e.person_id, e.face_id] for e in entries]))
    packing.put_templates(row, "Template", row_location(table().name, model, key(seq)),
                          [(e.face_id, e.template) for e in entries if e.kind == ADD])
    return row


def _entries_of(row: dict) -> list[Entry]:
    """The entries of one commit row, each with the commit's sequence number and time."""
    seq, committed = int(row["RowKey"]), row.metadata.get("timestamp")
    changes = json.loads(packing.text(row, "Changes"))
    added = [face_id for kind, _, face_id in changes if kind == ADD]
    templates = dict(zip(added, packing.templates(row, "Template", row_location(table().name, row["PartitionKey"],
                                                                                 row["RowKey"]), added)))
    return [Entry(kind, person_id, face_id, templates.get(face_id) if kind == ADD else None, seq, committed)
            for kind, person_id, face_id in changes]


def read_after(model: str, seq: int) -> tuple[list[Entry], Head]:
    """Entries after ``seq`` in order, and the head, in one range query. The head sorts last, so
    it is read after the entries: an entry missing from the range was removed by a compaction
    that had already published (the head shows it)."""
    entries, head = [], Head()
    for row in table().query("PartitionKey eq @model and RowKey gt @after", {"model": model, "after": key(seq)}):
        if row["RowKey"] == HEAD:
            head = _head_from_row(row)
        else:
            entries += _entries_of(row)
    return entries, head


def entries_between(model: str, after: int, through: int) -> Iterator[Entry]:
    rows = table().query("PartitionKey eq @model and RowKey gt @after and RowKey le @through",
                         {"model": model, "after": key(after), "through": key(through)})
    return (entry for row in rows for entry in _entries_of(row))


def drop_through(model: str, seq: int) -> int:
    """Delete the entries up to ``seq`` (a published snapshot holds them)."""
    return table().delete_matching("PartitionKey eq @model and RowKey le @through",
                                   {"model": model, "through": key(seq)})


def append(model: str, entries: list[Entry]) -> int:
    """Commit ``entries`` (in chunks of 500, each atomic); returns the first one's commit
    sequence number. Queues a compaction when the uncompacted entries reach
    FACE_DIRECTORY_DELTA_LIMIT."""
    first = 0
    for start in range(0, len(entries), MAX_ENTRIES):
        seq = _committer(model).append(entries[start:start + MAX_ENTRIES])
        first = first or seq
    return first


def append_everywhere(entries: list[Entry]) -> None:
    """Commit ``entries`` to every recognition model's journal, the four commits in parallel."""
    list(_appenders.map(lambda model: append(model, entries), RECOGNITION_MODELS))


def request_compaction(model: str) -> None:
    WorkQueue(COMPACTION_QUEUE).send({"model": model})


# ---------------------------------------------------------------- group commit

@dataclass
class _Pending:
    entries: list[Entry]
    first_seq: int = 0
    error: Exception | None = None
    finished: bool = False


class _Committer:
    """One commit for the entries of every request of this process that is waiting: the first
    waiter commits a batch (oldest first, at most 500 entries) while the others wait; then the
    next one still waiting commits the following batch."""

    def __init__(self, model: str):
        self.model = model
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._busy = False

    def append(self, entries: list[Entry]) -> int:
        pending = _Pending(entries)
        with self._cond:
            self._queue.append(pending)
        while True:
            with self._cond:
                while self._busy and not pending.finished:
                    self._cond.wait()
                if pending.finished:
                    break
                self._busy = True
                batch = self._take()
            try:
                self._commit(batch)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
        if pending.error is not None:
            raise pending.error
        return pending.first_seq

    def _take(self) -> list[_Pending]:
        batch, size = [], 0
        while self._queue and size + len(self._queue[0].entries) <= MAX_ENTRIES:
            size += len(self._queue[0].entries)
            batch.append(self._queue.pop(0))
        return batch

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            first, due = _commit(self.model, [entry for pending in batch for entry in pending.entries])
        except Exception as err:  # every request of the batch fails with it
            for pending in batch:
                pending.error, pending.finished = err, True
            return
        for pending in batch:
            pending.first_seq, pending.finished = first, True
        if due:
            try:
                request_compaction(self.model)
            except Exception:  # the maintenance sweep queues it again (maintenance.py)
                logger.exception("could not queue the compaction of %s", self.model)


_appenders = ThreadPoolExecutor(max_workers=len(RECOGNITION_MODELS), thread_name_prefix="journal-append")
_committers: dict[str, _Committer] = {}
_committers_lock = threading.Lock()


def _committer(model: str) -> _Committer:
    with _committers_lock:
        return _committers.setdefault(model, _Committer(model))


def _commit(model: str, entries: list[Entry]) -> tuple[int, bool]:
    """One transaction: the head advanced by one commit, and the commit's row. Returns the
    commit's sequence number and whether it made a compaction due."""
    read: list[Head] = []

    def advance(head: Head) -> Head:
        read[:] = [head]
        return _advanced(head, entries)

    written = change_head(model, advance, lambda head: [_commit_row(model, head.seq, entries)])
    return written.seq, written.compaction_queued != read[0].compaction_queued


def _advanced(head: Head, entries: list[Entry]) -> Head:
    """The head after one more commit of ``entries``; it records a compaction as queued when the
    commit makes one due (the committer then queues it)."""
    now = clock.now()
    updated = replace(head, seq=head.seq + 1, entries=head.entries + len(entries))
    if head.removals_since is None and any(entry.kind != ADD for entry in entries):
        updated = replace(updated, removals_since=now)
    if updated.delta >= delta_limit() and not compaction_pending(updated, now):
        updated = replace(updated, compaction_queued=now)
    return updated


def compaction_pending(head: Head, now: datetime) -> bool:
    """A compaction is queued or running, and not so long ago that its worker must have died."""
    last = max(filter(None, (head.compaction_queued, head.compaction_started)), default=None)
    return last is not None and now - last < compaction_timeout()

